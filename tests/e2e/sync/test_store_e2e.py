"""The store never loses a hook's event: not to a long Plex listing, a damaged file or a full disk."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from emulators import demo_library as lib
from sync_queue.intake.spool import spooled_files
from sync_queue.store import Store
from tests.e2e.conftest import REPO
from tests.e2e.sync.test_hooks_e2e import PlexGate, add_scenes

pytestmark = pytest.mark.e2e

LISTING = r"^/library/sections/\d+/all$"
FAST_HOOK_SECONDS = 5.0  # far below the 30 s a hook used to wait behind a listing (and then lose its event)


def _lease_expiry(data_dir) -> float:
    with Store(data_dir) as store:
        holder = store.lease_holder()
    assert holder is not None, "the task holds the lease while it lists"
    return float(holder["expires_at"])


def test_hooks_during_a_plex_listing_answer_fast_and_every_event_arrives(harness):
    harness.settings(settle_seconds=0)
    scene_ids = add_scenes(harness.stash, 6)
    section = harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    for n in range(len(scene_ids)):
        harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/s{n}.mp4", size=1000 + n, title=f"s{n}")
    with PlexGate(harness.plex, LISTING, "GET") as gate:  # the listing hangs until released: a slow Plex
        first = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[0]), input=None)
        assert first.error is None and first.output["worker"] == "started", first.error
        assert gate.arrived.wait(60), "the worker never listed the library it had not indexed yet"
        before = _lease_expiry(harness.data_dir)
        for scene_id in scene_ids[1:]:
            result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
            assert result.error is None, result.error
            assert result.elapsed_s < FAST_HOOK_SECONDS, f"the save waited {result.elapsed_s:.1f} s for the listing"
        deadline = time.time() + 30  # the heartbeat renews every 10 s, listing or not
        while _lease_expiry(harness.data_dir) <= before:
            assert time.time() < deadline, "the lease heartbeat could not renew during the listing"
            time.sleep(0.5)
    final = harness.wait_idle()
    assert final["synced"] == len(scene_ids) and final["dead"] == 0, final


def test_a_damaged_database_is_set_aside_and_the_hook_keeps_queueing(harness):
    harness.settings(settle_seconds=3600)
    scene_id = int(add_scenes(harness.stash, 1)[0])
    harness.data_dir.mkdir(parents=True)
    garbage = b"this is not an SQLite file " * 200
    (harness.data_dir / "plexsync.db").write_bytes(garbage)

    result = harness.runner.run_hook("Scene.Update.Post", scene_id, input=None)

    assert result.error is None and result.output["queued"] == "scene", result.error
    moved = list(harness.data_dir.glob("plexsync.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
    told = [text for level, text in result.logs if level in ("error", "warning")]
    assert any(str(moved[0]) in text and "Sync All" in text for text in told), result.logs
    first = harness.task("Queue Status")
    assert first.output["pending"] == 1
    assert first.output["store_reset"]["moved_to"] == str(moved[0])
    assert any(str(moved[0]) in text for level, text in first.logs if level == "warning"), first.logs
    again = harness.task("Queue Status")
    assert not any(str(moved[0]) in text for _, text in again.logs)  # told once
    assert harness.runner.run_hook("Scene.Update.Post", scene_id, input=None).error is None
    assert len(list(harness.data_dir.glob("plexsync.db.corrupt-*"))) == 1  # a fresh file stays in use


@pytest.mark.skipif(sys.platform == "win32", reason="a file-size limit (RLIMIT_FSIZE) stands in for a full disk")
def test_a_full_disk_is_named_in_the_hooks_error_and_the_edit_is_kept(harness):
    import resource
    import signal

    def small_files_only():  # runs in the hook process: writes past 40 kB fail the way a full disk fails
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    payload = {"server_connection": harness.runner.server_connection,
               "args": {"hookContext": {"id": 7, "type": "Scene.Update.Post", "input": None}}}
    proc = subprocess.run([sys.executable, str(REPO / "PlexSync.py")], input=json.dumps(payload).encode(),
                          capture_output=True, timeout=60, preexec_fn=small_files_only,
                          env=harness.runner.environment(), cwd=REPO)

    answer = json.loads(proc.stdout)
    assert "disk I/O error" in answer["error"] and "rollback" not in answer["error"], answer
    kept = spooled_files(harness.data_dir)
    assert [str(path) for path in kept] == [answer["output"]["kept_in"]]
    assert json.loads(kept[0].read_bytes())["id"] == "7"
    assert "disk I/O error" in proc.stderr.decode("utf-8")
