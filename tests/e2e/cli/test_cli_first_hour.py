"""The command line as a newcomer meets it: a missing package, ``| head``, status in words, an empty variable,
``--json`` errors, Health Check's warnings, a non-Plex URL, leftovers handed to a worker that keeps its settings."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from sync_queue.store import Store
from tests.e2e.conftest import stop_detached_worker

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


def run_cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "PlexSync.py"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kwargs)


class World:
    """Stash (with PlexSync's settings saved in it) and Plex: one scene syncs, one Plex refuses (a dead letter),
    one Plex has not listed yet."""

    def __init__(self, plex: PlexEmulator, stash: StashEmulator, data_dir: Path) -> None:
        self.plex, self.stash, self.data_dir = plex, stash, data_dir
        section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT])
        self.keys = {name: plex.add_item(section, file=f"{lib.PLEX_ROOT}/{name}.mp4", size=9, title=name)
                     for name in ("good", "refused")}
        self.scenes = {name: stash.add_scene(title=f"The {name} one", files=[{"path": f"{lib.STASH_ROOT}/{name}.mp4",
                                                                             "size": 9}])
                       for name in ("good", "refused", "unlisted")}
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, max_retries=1))
        plex.fail(rf"[?&]id={self.keys['refused']}(&|$)", 400, times=None, method="PUT")
        self.env = {"PLEXSYNC_DATA_DIR": str(data_dir), "PLEXSYNC_STASH_URL": stash.url}


@pytest.fixture()
def world(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        (tmp_path / "data").mkdir()
        built = World(plex, stash, tmp_path / "data")
        yield built
        stop_detached_worker(built.data_dir)


def test_status_speaks_words_names_scenes_by_title_and_counts_a_waiting_scene_once(world):
    synced = run_cli("sync-all", env=world.env)
    assert synced.returncode == 3, synced.stdout + synced.stderr
    assert "moved to the dead-letter queue after 1 attempt: " in synced.stderr, synced.stderr
    status = run_cli("status", env=world.env)
    lines = status.stdout.splitlines()
    assert lines[0].startswith("Queue: 0 ready to sync, 0 syncing now, 1 waiting for Plex, 0 retrying later, "
                               "1 failed; 1 synced"), lines
    assert lines[1].startswith("Plex connection: OK; background worker ")
    assert (f"Failed: 'The refused one' (scene {world.scenes['refused']}): Plex refused the request (400 Bad "
            "Request) (tried 1 time). To fix: ") in status.stdout
    assert (f"Waiting for Plex: 'The unlisted one' (scene {world.scenes['unlisted']}): Plex has not listed its "
            f"file yet: {lib.PLEX_ROOT}/unlisted.mp4. To fix: ") in status.stdout
    for internal in ("Plexrejected", "PlexRejected", "ItemNotInPlex", "Fanout", "fanout", "<html", "_"):
        assert internal not in status.stdout.replace(str(world.data_dir), ""), internal
    assert status.returncode == 3  # a dead letter: "it ran, but found problems"


def test_status_into_a_closed_pipe_ends_without_a_traceback(world):
    with Store(world.data_dir) as store:  # a queue to report on
        store.queue_scenes([int(world.scenes["good"])])
    process = subprocess.Popen([sys.executable, str(REPO / "PlexSync.py"), "status"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, **world.env})
    process.stdout.close()  # like ``| head`` that has read all it wanted before status writes
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr


def test_sync_all_with_a_stash_url_hands_leftovers_to_a_worker_with_the_command_lines_settings(world):
    world.stash.set_plugin_settings("PlexSync", {})  # only the command line knows how to reach Plex
    env = {**world.env, "PLEXSYNC_PLEX_URL": world.plex.url, "PLEXSYNC_PLEX_TOKEN": lib.PLEX_TOKEN,
           "PLEXSYNC_PATH_MAP": lib.PATH_MAP, "PLEXSYNC_SETTLE_SECONDS": "0", "PLEXSYNC_MAX_RETRIES": "1"}
    result = run_cli("sync-all", env=env)
    assert "Background worker: started" in result.stdout, result.stdout + result.stderr
    assert "no Stash connection" not in result.stdout
    # A later edit wakes that worker (as a hook does); it syncs with the settings it was handed.
    world.stash.update_scene(world.scenes["good"], title="Edited after the run")
    with Store(world.data_dir) as store:
        store.append_event({"kind": "scene", "id": str(world.scenes["good"]), "event": "Scene.Update.Post",
                            "at": time.time()})
        holder = store.lease_holder()
    assert holder is not None, "no background worker runs"
    from sync_queue.intake.launcher import wake

    wake(holder["wake_port"])
    deadline = time.time() + 30
    while world.plex.item(world.keys["good"]).fields.get("title") != "Edited after the run":
        assert time.time() < deadline, (world.data_dir / "logs" / "worker.log").read_text()
        time.sleep(0.2)
    log = (world.data_dir / "logs" / "worker.log").read_text()
    assert lib.PLEX_TOKEN not in log and "Plex URL is not set" not in log


def test_an_empty_token_variable_keeps_the_token_saved_in_stash(world):
    result = run_cli("health", "--json", env={**world.env, "PLEXSYNC_PLEX_TOKEN": "", "PLEXSYNC_PLEX_URL": " "})
    answer = json.loads(result.stdout)
    assert answer["error"] is None and answer["output"]["token"] == "accepted", answer


def test_errors_before_a_task_runs_are_json_with_json(tmp_path):
    result = run_cli("status", "--json", "--data-dir", str(tmp_path / "typo"))
    answer = json.loads(result.stdout)
    assert result.returncode == 2 and answer["output"] is None and "does not exist (a typo?)" in answer["error"]
    result = run_cli("status", "--json", env={"PLEXSYNC_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2 and "No PlexSync queue in" in json.loads(result.stdout)["error"]


def test_health_lists_a_path_map_problem_as_a_warning_and_exits_3(world):
    result = run_cli("health", env={**world.env, "PLEXSYNC_PATH_MAP": "/elsewhere=/media"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Warnings: none" not in result.stdout
    warnings = result.stdout.split("Warnings:\n", 1)[1]
    assert warnings.startswith("  - Path map: none of 3 sampled Stash paths maps into a Plex library folder")
    assert f"{lib.STASH_ROOT}={lib.PLEX_ROOT}" in warnings  # the rule to use


def test_a_missing_package_gets_the_install_command_a_stash_run_gets(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "plexapi.py").write_text("raise ModuleNotFoundError(\"No module named 'plexapi'\", name='plexapi')\n")
    env = {"PYTHONPATH": str(blocker), "PLEXSYNC_DATA_DIR": str(tmp_path), "PLEXSYNC_PLEX_URL": "http://127.0.0.1:9",
           "PLEXSYNC_PLEX_TOKEN": "t"}
    result = run_cli("health", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "needs the Python package 'plexapi'" in result.stderr and "pip install -r" in result.stderr
    assert str(REPO / "requirements.txt") in result.stderr
    as_json = json.loads(run_cli("health", "--json", env=env).stdout)
    assert "needs the Python package 'plexapi'" in as_json["error"]
    (blocker / "graphql.py").write_text("raise ModuleNotFoundError(\"No module named 'graphql'\", name='graphql')\n")
    demo = run_cli("demo", env=env)
    assert demo.returncode == 1 and "Traceback" not in demo.stderr, demo.stderr
    assert "pip install -r" in demo.stderr and str(REPO / "requirements-demo.txt") in demo.stderr


class _NotPlex(http.server.BaseHTTPRequestHandler):
    """Some other web server on the Plex URL: an empty 404 for everything."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def test_a_url_that_answers_an_empty_404_is_not_plex_rather_than_a_missing_item(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotPlex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"PLEXSYNC_DATA_DIR": str(tmp_path), "PLEXSYNC_PLEX_TOKEN": "t",
               "PLEXSYNC_PLEX_URL": f"http://127.0.0.1:{server.server_address[1]}"}
        result = run_cli("health", "--json", env=env)
    finally:
        server.shutdown()
    error = json.loads(result.stdout)["error"]
    assert result.returncode == 1 and "not Plex" in error and "no such item" not in error, error
    assert "Check --plex-url or PLEXSYNC_PLEX_URL" in error  # on the command line: the flag and the variable


def test_plurals_agree_with_one(world):
    world.plex.fail(r"/identity", 503, times=None)  # Plex down: nothing is lost, and says so
    with Store(world.data_dir) as store:
        store.queue_scenes([int(world.scenes["good"])])
    down = run_cli("process-queue", env=world.env)
    assert "Nothing was lost: 1 scene stays queued." in down.stdout, down.stdout
