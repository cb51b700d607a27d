"""The command line: help, settings from PLEXSYNC_* variables and flags, a task run outside Stash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emulators import demo_library as lib
from emulators.plex_server import PlexEmulator
from emulators.stash_server import StashEmulator
from worker.cli import build_parser, overrides_from

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "PlexSync.py"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_help_lists_every_task_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("process-queue", "sync-all", "sync-recent", "reconcile", "status", "health", "retry-dlq",
                    "clear-queue", "clear-dlq", "purge-dlq", "rebuild-index", "demo"):
        assert command in result.stdout
    assert "worker" not in result.stdout.split("positional")[0] or "PLEXSYNC_" in result.stdout


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
                            text=True, env={**os.environ, "PYTHONPATH": str(blocker)}, cwd=tmp_path, timeout=60)
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
