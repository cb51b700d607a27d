"""The data folder: owner-only files, one Stash per folder, and no secret in anything PlexSync writes or says,
after a run that went through every error path with debug logging on."""

from __future__ import annotations

import os
import stat

import pytest

from emulators import demo_library as lib
from emulators.plugin_runner import PluginRunner
from emulators.stash.server import StashEmulator
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(os.name != "posix", reason="owner-only modes are POSIX file modes")
def test_everything_plexsync_writes_is_readable_by_its_owner_only(harness):
    lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    harness.runner.run_hook("Scene.Update.Post", int(next(iter(scene_ids.values()))), input=None)
    assert harness.task("Sync All Scenes").error is None
    harness.wait_idle()
    paths = [harness.data_dir, *harness.data_dir.rglob("*")]
    assert any(p.name == "plexsync.db" for p in paths) and any(p.suffix == ".log" for p in paths)
    loose = [f"{p} {stat.filemode(p.stat().st_mode)}" for p in paths if p.stat().st_mode & 0o077]
    assert loose == []


def test_a_second_stash_on_the_same_data_dir_is_refused_and_the_first_keeps_working(harness, tmp_path,
                                                                                      monkeypatch):
    monkeypatch.setenv("PLEXSYNC_DATA_DIR", str(tmp_path / "shared"))
    first = harness.runner.run_hook("Scene.Update.Post", 5, input=None)
    assert first.error is None, first.error
    with StashEmulator() as other:
        second_runner = PluginRunner(REPO, other.server_connection(data_dir=str(tmp_path / "other-stash"),
                                                                    plugin_dir=str(REPO)))
        second = second_runner.run_hook("Scene.Update.Post", 5, input=None)
    assert second.exit_code == 0 and second.error and "already belongs to the Stash" in second.error
    assert "PLEXSYNC_DATA_DIR" in second.error and ("error", second.error) in second.logs
    again = harness.runner.run_hook("Scene.Update.Post", 6, input=None)
    assert again.error is None, again.error


def test_a_moved_stash_config_folder_takes_its_queue_along(stash, tmp_path):
    """Without PLEXSYNC_DATA_DIR the queue lives inside Stash's config folder: a new Dir means it moved."""
    old = tmp_path / "old-config"
    PluginRunner(REPO, stash.server_connection(data_dir=str(old), plugin_dir=str(REPO))).run_hook(
        "Scene.Update.Post", 1, input=None)
    moved = tmp_path / "new-config"
    old.rename(moved)
    result = PluginRunner(REPO, stash.server_connection(data_dir=str(moved), plugin_dir=str(REPO))).run_hook(
        "Scene.Update.Post", 2, input=None)
    assert result.error is None, result.error


def test_no_secret_reaches_any_output_log_status_or_file(stash, plex, tmp_path):
    """Plex token, Stash API key and Stash session cookie, after every error path with debug logging on."""
    secured = StashEmulator(api_key="stash-api-key-9f8e7d6c", require_auth=True)
    with secured:
        world_dir = tmp_path / "stash"
        runner = PluginRunner(REPO, secured.server_connection(data_dir=str(world_dir), plugin_dir=str(REPO)))
        lib.populate_plex(plex)
        scene_ids, _ = lib.populate_stash(secured)
        secured.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, verbose_logging=True))
        plex.fail(r"^/library/sections/\d+/all$", 500, times=2, method="PUT")
        plex.fail(r"^/library/metadata/\d+/posters$", 400, times=1, method="POST")
        outputs = [runner.run_hook("Scene.Update.Post", int(sid), input=None) for sid in scene_ids.values()]
        for task in ("Preview Sync (no changes)", "Sync All Scenes", "Queue Status", "Reconcile Library"):
            outputs.append(runner.run_task(task, timeout=180))
        secured.expire_session()  # a long run's cookie expired: the reader switches to the API key
        outputs.append(runner.run_task("Process Queue", timeout=180))
        plex.token = "rotated"  # the token is rejected mid-life
        outputs.append(runner.run_task("Health Check", timeout=180))
        outputs.append(runner.start({"mode": "ui", "op": "overview"}).wait(60))
        plex.go_down()
        outputs.append(runner.run_task("Process Queue", timeout=180))
        secrets = [lib.PLEX_TOKEN, secured.api_key, secured.session_cookie]
        for result in outputs:
            text = (result.stdout_raw + result.stderr_raw).decode("utf-8", "replace")
            assert not [s for s in secrets if s in text], text[:2000]
        files = [p for p in (world_dir / "plugin_data" / "PlexSync").rglob("*") if p.is_file()]
        assert files
        for path in files:
            data = path.read_bytes()
            assert not [s for s in secrets if s.encode() in data], path


def test_obfuscate_paths_hides_every_file_path_the_same_way_each_time(harness):
    """A log to share: the same path always becomes the same short hash, in what Stash logs and shows (the
    task output, the status reasons) and in worker.log."""
    import re

    lib.populate_plex(harness.plex)
    harness.settings(obfuscate_paths=True, verbose_logging=True, skip_not_found=False)
    scene_id = harness.stash.add_scene(title="Private", files=[{"path": f"{lib.STASH_ROOT}/secret/holiday.mp4",
                                                                "size": 1}])
    runs = [harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)]
    runs += [harness.task("Process Queue"), harness.task("Queue Status"), harness.task("Process Queue")]
    logs = "\n".join((run.stdout_raw + run.stderr_raw).decode("utf-8", "replace") for run in runs)
    worker_logs = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                            for p in (harness.data_dir / "logs").glob("*.log"))
    for text in (logs, worker_logs):
        assert "holiday.mp4" not in text and "/secret/" not in text
    hashes = set(re.findall(r"<path:([0-9a-f]{10})>", logs + worker_logs))
    assert hashes  # the not-found scene's path was logged, hidden
    plex_path = f"{lib.PLEX_ROOT}/secret/holiday.mp4"
    import hashlib

    assert hashlib.sha1(plex_path.encode()).hexdigest()[:10] in hashes  # one path, one stable name
