"""Plays from Plex into Stash as Stash runs the plugin (issue 14): the task's Info line, a SIGKILL in the middle of
an import, the background worker's periodic import, and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from emulators import demo_library as lib
from tests.e2e.conftest import kill_after_third_write
from worker.viewing.stash_calls import epoch_of

pytestmark = pytest.mark.e2e

T0 = 1_760_000_000
REPO = str(Path(__file__).resolve().parents[3])


def play_times(harness, scene_id) -> Counter:
    return Counter(epoch_of(text) for text in harness.stash.plays.history(scene_id))


@pytest.fixture()
def synced(harness):
    """The demo library, synced once so the store links each scene to its Plex item."""
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    linked = [(scene_ids[path], key) for path, key in rating_keys.items() if path in scene_ids]
    assert len(linked) >= 6
    return linked


def test_the_task_says_what_it_imported_at_info(harness, synced):
    (s0, k0), (s1, k1) = synced[:2]
    harness.plex.watch.play(k0, viewed_stamp=T0)
    harness.plex.watch.play(k0, viewed_stamp=T0 + 60)
    harness.plex.watch.set_offset(k1, 30_000)
    result = harness.task("Import Plex Plays")
    assert result.error is None, result.error
    assert ("info", "Imported 2 plays for 1 scene from Plex; 1 resume point") in result.logs, result.logs
    assert result.output["imported"] == 2
    assert play_times(harness, s0) == Counter({T0: 1, T0 + 60: 1})
    assert harness.stash.plays.of(s1).resume_s == 30.0


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_mid_import_then_a_rerun_gives_exactly_the_right_plays(harness, synced):
    """The third scene's plays reach Stash, and the process is killed before it can record that."""
    expected = {}
    for n, (scene_id, key) in enumerate(synced[:6]):
        times = [T0 + 1000 * n + m for m in range(n % 3 + 1)]
        for moment in times:
            harness.plex.watch.play(key, viewed_stamp=moment)
        expected[scene_id] = Counter(times)

    assert kill_after_third_write(harness, "sceneAddPlay", "Import Plex Plays") == -9  # died mid-import
    assert sum(len(harness.stash.plays.of(s).plays) > 0 for s in expected) == 3

    for _ in range(2):
        rerun = harness.task("Import Plex Plays")
        assert rerun.error is None, rerun.error
    for scene_id, times in expected.items():
        assert play_times(harness, scene_id) == times, scene_id


def test_the_background_worker_imports_plays_when_switched_on(harness, synced):
    (s0, k0) = synced[0]
    harness.plex.watch.play(k0, viewed_stamp=T0)
    harness.settings(watch_history_from_plex=True, import_plays_minutes=15)
    assert harness.runner.run_hook("Scene.Update.Post", int(s0)).error is None  # starts a worker
    deadline = time.time() + 60
    while time.time() < deadline and not harness.stash.plays.of(s0).plays:
        time.sleep(0.3)
    assert play_times(harness, s0) == Counter({T0: 1})
    harness.wait_idle()
    assert "Imported 1 play for 1 scene from Plex" in harness.all_log_text()


def test_the_background_worker_leaves_plays_alone_by_default(harness, synced):
    (s0, k0) = synced[0]
    harness.plex.watch.play(k0, viewed_stamp=T0)
    assert harness.runner.run_hook("Scene.Update.Post", int(s0)).error is None
    harness.wait_idle()
    assert harness.stash.plays.of(s0).plays == []


def test_the_command_line_imports_plays(harness, synced):
    (s0, k0) = synced[0]
    harness.plex.watch.play(k0, viewed_stamp=T0)
    env = {**os.environ, "PYTHONPATH": REPO}
    command = [sys.executable, str(Path(REPO) / "PlexSync.py"), "import-plays", "--json", "--data-dir", str(harness.data_dir),
               "--stash-url", harness.stash.url]
    for _ in range(2):
        done = subprocess.run(command, capture_output=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["output"]["imported"] == 0  # the second run found nothing new
    assert play_times(harness, s0) == Counter({T0: 1})
