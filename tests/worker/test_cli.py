"""The command line: help, settings from PLEXSYNC_* variables and flags, a task run outside Stash."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from worker.cli.main import build_parser, overrides_from

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "PlexSync.py"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_help_lists_every_task_command_and_hides_the_worker():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("process-queue", "sync-all", "sync-recent", "reconcile", "status", "health", "retry-dlq",
                    "clear-queue", "clear-dlq", "purge-dlq", "rebuild-index", "demo"):
        assert command in result.stdout
    assert "SUPPRESS" not in result.stdout and not re.search(r"^\s+worker\b", result.stdout, re.MULTILINE)


def test_a_commands_help_leaves_the_settings_to_help_settings_which_lists_every_one():
    from validation.config import PlexSyncConfig

    brief = run_cli("status", "--help")
    assert brief.returncode == 0 and "--help-settings" in brief.stdout
    assert "--plex-url" not in brief.stdout and "--max-tags" not in brief.stdout
    assert len(brief.stdout.splitlines()) < 45, brief.stdout
    listing = run_cli("status", "--help-settings")
    assert listing.returncode == 0 and listing.stdout == run_cli("--help-settings").stdout
    for key, field in PlexSyncConfig.model_fields.items():  # whatever the settings are, each is listed
        assert "--" + key.replace("_", "-") in listing.stdout and f"PLEXSYNC_{key.upper()}" in listing.stdout
        assert " ".join(str(field.description).split()[:2]) in " ".join(listing.stdout.split())
    assert "an empty variable changes nothing" in " ".join(listing.stdout.split())


def test_settings_come_from_environment_then_flags():
    args = build_parser().parse_args(["process-queue", "--plex-url", "http://flag:1", "--set", "max_tags=7"])
    overrides = overrides_from(args, {"PLEXSYNC_PLEX_URL": "http://env:1", "PLEXSYNC_PLEX_TOKEN": "tok",
                                      "PLEXSYNC_UNRELATED": "x"})
    assert overrides == {"plex_url": "http://flag:1", "plex_token": "tok", "max_tags": "7"}


def test_status_and_process_queue_outside_stash(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator(api_key="cli-key") as stash:
        section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT])
        key = plex.add_item(section, file=f"{lib.PLEX_ROOT}/c.mp4", size=3, title="c")
        stash.add_scene(title="From the CLI", files=[{"path": f"{lib.STASH_ROOT}/c.mp4", "size": 3}])
        (tmp_path / "d").mkdir()
        env = {"PLEXSYNC_DATA_DIR": str(tmp_path / "d"), "PLEXSYNC_PLEX_URL": plex.url,
               "PLEXSYNC_PLEX_TOKEN": lib.PLEX_TOKEN, "PLEXSYNC_PATH_MAP": lib.PATH_MAP,
               "PLEXSYNC_STASH_URL": stash.url, "PLEXSYNC_STASH_API_KEY": "cli-key"}
        result = run_cli("sync-all", "--json", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["output"]["succeeded"] == 1
        assert plex.item(key).fields["title"] == "From the CLI"
        status = json.loads(run_cli("status", "--json", env=env).stdout)["output"]
        assert status["synced"] == 1
        assert lib.PLEX_TOKEN not in result.stderr and "cli-key" not in result.stderr


def test_failed_task_exits_non_zero_with_the_reason(tmp_path):
    env = {"PLEXSYNC_DATA_DIR": str(tmp_path), "PLEXSYNC_PLEX_URL": "http://127.0.0.1:9", "PLEXSYNC_PLEX_TOKEN": "t"}
    result = run_cli("process-queue", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "needs Stash" in json.loads(result.stdout)["error"]
    result = run_cli("status", "--json", env={"PLEXSYNC_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["output"]["pending"] == 0


def test_a_missing_dependency_names_the_package_and_the_fix(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "persistqueue.py").write_text("raise ModuleNotFoundError(name='persistqueue')\n")
    payload = json.dumps({"server_connection": {"Dir": str(tmp_path)},  # hooks need no persist-queue; this does
                          "args": {"mode": "clear_queue"}})
    result = subprocess.run([sys.executable, str(REPO / "PlexSync.py")], input=payload, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(blocker), "PIP_NO_INDEX": "1"},
                            cwd=tmp_path, timeout=60)  # PlexSync's own install of it fails at once, offline
    error = json.loads(result.stdout)["error"]
    assert result.returncode == 0 and "persistqueue" in error and "pip install -r" in error


def test_an_externally_managed_python_is_told_how_to_install_in_a_lasting_venv(tmp_path, monkeypatch):
    from validation.install_help import externally_managed, missing_dependency_message

    monkeypatch.delenv("STASH_CONFIG_FILE", raising=False)
    (tmp_path / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    assert externally_managed(str(tmp_path)) and not externally_managed(str(tmp_path / "nowhere"))
    plugin_dir = str(tmp_path / "config" / "plugins" / "community" / "PlexSync")
    message = missing_dependency_message("plexapi", plugin_dir, python="/usr/bin/python3", managed=True)
    venv = os.path.join(str(tmp_path / "config"), "plexsync-venv")
    assert f"/usr/bin/python3 -m venv {venv}" in message and "Python executable path" in message
    monkeypatch.setenv("STASH_CONFIG_FILE", "/root/.stash/config.yml")
    assert os.path.join("/root/.stash", "plexsync-venv") in missing_dependency_message(
        "plexapi", plugin_dir, python="/usr/bin/python3", managed=True)
    plain = missing_dependency_message("plexapi", plugin_dir, python="/usr/bin/python3", managed=False)
    assert plain.endswith(f"/usr/bin/python3 -m pip install -r {os.path.join(plugin_dir, 'requirements.txt')}")


def test_the_command_line_finds_the_queue_stash_uses(tmp_path, monkeypatch):
    from sync_queue.location import command_line_data_dir

    monkeypatch.delenv("STASH_CONFIG_FILE", raising=False)
    installed = tmp_path / "stash-config" / "plugins" / "PlexSync"
    assert command_line_data_dir(installed, {}) == (tmp_path / "stash-config" / "plugin_data" / "PlexSync").resolve()
    assert command_line_data_dir(installed, {"PLEXSYNC_DATA_DIR": str(tmp_path / "mine")}) == \
        (tmp_path / "mine").resolve()
    monkeypatch.chdir(tmp_path)
    assert command_line_data_dir(tmp_path / "checkout", {}) == (tmp_path / "plexsync-data").resolve()


# -- a command line for people ------------------------------------------------------------------------

def cli_env(tmp_path: Path, plex, stash, **settings) -> dict:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {"PLEXSYNC_DATA_DIR": str(data), "PLEXSYNC_PLEX_URL": plex.url, "PLEXSYNC_PLEX_TOKEN": lib.PLEX_TOKEN,
           "PLEXSYNC_PATH_MAP": lib.PATH_MAP, "PLEXSYNC_STASH_URL": stash.url, "PLEXSYNC_SETTLE_SECONDS": "0"}
    env.update({f"PLEXSYNC_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def library(plex, stash, count: int = 2) -> list[int]:
    section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT])
    keys = []
    for number in range(count):
        keys.append(plex.add_item(section, file=f"{lib.PLEX_ROOT}/s{number}.mp4", size=9, title=f"s{number}"))
        stash.add_scene(title=f"Scene {number}", files=[{"path": f"{lib.STASH_ROOT}/s{number}.mp4", "size": 9}])
    return keys


def test_log_lines_stay_plain_after_the_settings_load_and_the_summary_is_words(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash)
        result = run_cli("sync-all", "-v", env=cli_env(tmp_path, plex, stash))
    assert result.returncode == 0, result.stderr
    assert "\x01" not in result.stderr and "\x02" not in result.stderr
    assert re.search(r"^\d\d:\d\d:\d\d Indexed Plex library 'Stash': 2 files$", result.stderr, re.MULTILINE)
    assert "Synced 2 scenes (0 already right), 0 failed" in result.stdout
    assert not result.stdout.lstrip().startswith("{")


def test_json_is_one_document_and_quiet_prints_nothing(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash, 1)
        env = cli_env(tmp_path, plex, stash)
        as_json = run_cli("sync-all", "--json", env=env)
        quiet = run_cli("status", "--quiet", env=env)
    assert json.loads(as_json.stdout)["output"]["succeeded"] == 1 and as_json.stdout.count("\n") == 1
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_exit_status_says_scenes_failed_or_are_dead_lettered(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash, 1)
        plex.fail(r"/library/sections/\d+/all", 400, times=None, method="PUT")
        env = cli_env(tmp_path, plex, stash, max_retries=1)
        synced = run_cli("sync-all", env=env)
        status = run_cli("status", env=env)
    assert synced.returncode == 3 and "1 failed" in synced.stdout
    assert status.returncode == 3 and "1 failed;" in status.stdout.splitlines()[0]


def test_status_shows_local_date_times_not_unix_seconds(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash, 1)
        env = cli_env(tmp_path, plex, stash)
        run_cli("sync-all", env=env)
        status = run_cli("status", env=env)
    assert re.search(r"; last sync \d{4}-\d\d-\d\d \d\d:\d\d$", status.stdout, re.MULTILINE), status.stdout
    assert not re.search(r"\b1\d{9}(\.\d+)?\b", status.stdout)


def test_destructive_commands_show_what_they_would_delete_and_ask(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash, 1)
        plex.fail(r"/library/sections/\d+/all", 400, times=None, method="PUT")
        env = cli_env(tmp_path, plex, stash, max_retries=1)
        run_cli("sync-all", env=env)
        refused = subprocess.run([sys.executable, str(REPO / "PlexSync.py"), "clear-dlq"], capture_output=True,
                                 text=True, env={**os.environ, **env}, stdin=subprocess.DEVNULL, timeout=120)
        kept = json.loads(run_cli("status", "--json", env=env).stdout)["output"]["dead"]
        done = run_cli("clear-dlq", "--yes", "--json", env=env)
    assert refused.returncode == 2 and "Would delete 1 dead letter:" in refused.stderr
    assert "scene 1: Plex refused the request (400 Bad Request)" in refused.stderr and "pass --yes" in refused.stderr
    assert kept == 1 and json.loads(done.stdout)["output"]["cleared"] == 1


def test_a_first_dry_run_on_a_new_data_directory_previews_and_writes_nothing(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        library(plex, stash, 1)
        result = run_cli("sync-all", "--dry-run", env=cli_env(tmp_path, plex, stash))
        writes = plex.writes()
    assert result.returncode == 0, result.stderr
    assert "Scene 1 'Scene 0' → Plex item" in result.stdout and "title 's0' → 'Scene 0'" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("Preview (nothing was written): 1 of 1 scenes")
    assert writes == 0


def test_reconcile_asks_first_and_its_dry_run_writes_nothing(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        (key,) = library(plex, stash, 1)
        env = cli_env(tmp_path, plex, stash)
        run_cli("sync-all", env=env)
        plex.set_field(key, "title", "Edited in Plex")
        plex.reset_requests()
        refused = run_cli("reconcile", env=env)
        preview = run_cli("reconcile", "--dry-run", env=env)
        writes = plex.writes()
        run_cli("reconcile", "--yes", env=env)
        title = plex.item(key).fields["title"]
    assert refused.returncode == 2 and "over fields someone edited in Plex" in refused.stderr
    assert writes == 0 and "title 'Edited in Plex' → 'Scene 0'" in preview.stdout
    assert "Preview (nothing was written): 1 of 1" in preview.stdout
    assert title == "Scene 0"


def test_a_mistyped_data_directory_is_an_error_not_a_new_folder(tmp_path):
    typo = tmp_path / "plexsync-dta"
    result = run_cli("status", "--data-dir", str(typo))
    assert result.returncode == 2 and "does not exist (a typo?)" in result.stderr
    assert not typo.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("clear-queue", "--yes", "--data-dir", str(empty))
    assert result.returncode == 2 and "No PlexSync queue in" in result.stderr
    assert list(empty.iterdir()) == []


def test_no_arguments_at_a_terminal_prints_help_instead_of_waiting(tmp_path):
    pty = pytest.importorskip("pty")  # POSIX terminals; Windows has no pty module
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run([sys.executable, str(REPO / "PlexSync.py")], stdin=terminal, capture_output=True,
                                text=True, timeout=60, cwd=tmp_path)
    finally:
        os.close(controller)
        os.close(terminal)
    assert result.returncode == 0 and "usage: PlexSync.py" in result.stdout and "sync-all" in result.stdout
