"""What the PlexSync page is told (runPluginOperation "overview", as Stash runs the plugin): the setup checklist
with each fix, and every scene that needs attention with its reason — from the store, without asking Plex."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from sync_queue.store import Store
from tests.e2e.conftest import stop_detached_worker
from worker.sync.pauses import WORKER_FAILURE_KEY

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


def overview(stash: StashEmulator) -> dict:
    body = json.dumps({"query": "mutation($a: Map) { runPluginOperation(plugin_id: \"PlexSync\", args: $a) }",
                       "variables": {"a": {"mode": "ui", "op": "overview"}}}).encode()
    request = urllib.request.Request(stash.url + "/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert not answer.get("errors"), answer
    return answer["data"]["runPluginOperation"]


def run_task(host, name: str):
    job_id = host.run_task("PlexSync", name, None, None)
    deadline = time.time() + 60
    while host.find_job(job_id)["status"] != "FINISHED":
        assert time.time() < deadline, f"{name} did not finish"
        time.sleep(0.1)
    return host.results[job_id]


def states(answer: dict) -> dict[str, str]:
    return {item["key"]: item["state"] for item in answer["setup"]}


def test_the_checklist_follows_health_check_and_sync_all_and_problems_are_words(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        section = plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
        refused = plex.add_item(section, file=f"{lib.PLEX_ROOT}/refused.mp4", size=10, title="refused")
        stash.add_scene(title="Refused", files=[{"path": f"{lib.STASH_ROOT}/refused.mp4", "size": 10}])
        stash.add_scene(title="Not listed", files=[{"path": f"{lib.STASH_ROOT}/new.mp4", "size": 10}])
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, path_map="", max_retries=1))
        host = stash.install_plugin(REPO, tmp_path)
        try:
            first = overview(stash)  # a new install: nothing checked yet, and each line says what to do
            assert states(first) == dict.fromkeys(("plex", "token", "libraries", "path_map", "sync_all"), "unknown")
            assert all(item["fix"] for item in first["setup"]) and "Health Check" in first["setup"][0]["fix"]
            assert first["connection"] == "OK" and first["problems"] == []

            run_task(host, "Health Check")
            plex.reset_requests()
            checked = overview(stash)
            assert plex.requests == []  # the page's answer comes from the store
            assert states(checked) == {"plex": "ok", "token": "ok", "libraries": "ok", "path_map": "problem",
                                       "sync_all": "unknown"}
            path_map = checked["setup"][3]
            assert f"Set Path map to {lib.STASH_ROOT}={lib.PLEX_ROOT}" in path_map["fix"], path_map
            assert "Movies" in checked["setup"][2]["text"]

            stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, max_retries=1))
            plex.fail(rf"[?&]id={refused}(&|$)", 400, times=None, method="PUT")
            run_task(host, "Health Check")
            run_task(host, "Sync All Scenes")
            started = time.perf_counter()
            done = overview(stash)
            seconds = time.perf_counter() - started
            stop_detached_worker(tmp_path / "plugin_data" / "PlexSync")  # its next settings read would clear it
            with Store(tmp_path / "plugin_data" / "PlexSync") as store:  # as worker.process.daemon records it
                store.set_json(WORKER_FAILURE_KEY, {"at": time.time(), "message": "ValueError: worker said no"})
            failure = overview(stash)["worker_start_failure"]
        finally:
            stop_detached_worker(tmp_path / "plugin_data" / "PlexSync")
    assert states(done) == dict.fromkeys(("plex", "token", "libraries", "path_map", "sync_all"), "ok"), done["setup"]
    assert seconds < 5, seconds  # a store read in a plugin process, no Plex or Stash request
    kinds = {problem["kind"]: problem for problem in done["problems"]}
    assert set(kinds) == {"failed", "waiting_for_plex"}, done["problems"]
    assert kinds["failed"]["reason"] == "Plex refused the request (400 Bad Request)"
    assert "Retry Failed Jobs" in kinds["failed"]["fix"] and kinds["failed"]["attempts"] == 1
    assert kinds["waiting_for_plex"]["reason"] == f"Plex has not listed its file yet: {lib.PLEX_ROOT}/new.mp4"
    text = json.dumps(done["problems"])
    for raw in ("PlexRejected", "ItemNotInPlex", "<html", "http://"):
        assert raw not in text, raw
    assert done["ready"] == 0 and done["waiting_for_plex"] == 1 and done["dead"] == 1
    assert failure["message"] == "worker said no"  # in words, without the exception's class name
