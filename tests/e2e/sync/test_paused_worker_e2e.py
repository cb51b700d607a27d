"""A rejected token, end to end: the detached worker's pause reaches Stash's log once (it has no Stash
stderr of its own), and a corrected token resumes the queue on the next edit, without a Health Check."""

from __future__ import annotations

import time

import pytest

from emulators import demo_library as lib
from sync_queue.schema import KV_SPAWN_PAUSE
from sync_queue.store import Store
from worker.sync.pauses import AUTH_RECHECK_S

pytestmark = pytest.mark.e2e


def wait_for(check, timeout: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def paused_and_idle(harness) -> bool:
    """Read straight from the store: a Queue Status task would take (and show) the worker's notice."""
    with Store(harness.data_dir) as store:
        return store.get_json("pause") is not None and store.lease_holder() is None


def idle(harness) -> bool:
    with Store(harness.data_dir) as store:
        return store.lease_holder() is None


def let_the_spawn_quiet_run_out(harness) -> None:
    """After a 401 hooks only queue for AUTH_RECHECK_S. Check the quiet is that short (a corrected token
    must resume within seconds, not the 5 minutes of other pauses), then move its end to now instead of
    sleeping it out: what follows is what happens once it has passed."""
    with Store(harness.data_dir) as store:
        until = float(store.get_json(KV_SPAWN_PAUSE, 0) or 0)
        assert until - time.time() <= AUTH_RECHECK_S, "the quiet after a 401 must be short"
        store.set_json(KV_SPAWN_PAUSE, time.time() - 0.1)


def edit(harness, scene_id):
    result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    assert result.error is None, result.error
    return result


def warnings(result) -> list[str]:
    return [text for level, text in result.logs if level == "warning"]


def test_a_fixed_token_resumes_the_queue_and_the_pause_is_shown_once(harness):
    section = harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/a.mp4", size=10, title="old")
    scene_id = harness.stash.add_scene(title="New title", files=[{"path": f"{lib.STASH_ROOT}/a.mp4", "size": 10}])
    harness.settings(plex_token="typo-token")
    assert edit(harness, scene_id).output["worker"] == "started"
    wait_for(lambda: paused_and_idle(harness), what="the auth pause")

    let_the_spawn_quiet_run_out(harness)
    harness.plex.reset_requests()
    unchanged = edit(harness, scene_id)  # same wrong token: a worker re-reads the settings, Plex is not asked
    assert unchanged.output["worker"] == "started"
    [shown] = warnings(unchanged)
    assert "Plex rejected the token (401)" in shown and "syncing resumes by itself" in shown
    assert "typo-token" not in unchanged.stderr_raw.decode()
    wait_for(lambda: idle(harness), what="the settings check to end")
    assert harness.plex.requests == []  # no 401 after 401 to a server that already said no
    assert harness.plex.item(key).fields["title"] == "old"
    assert warnings(edit(harness, scene_id)) == []  # shown once, not on every save

    harness.settings()  # the user pastes the right token
    let_the_spawn_quiet_run_out(harness)
    fixed = edit(harness, scene_id)
    assert fixed.output["worker"] == "started"
    final = harness.wait_idle()
    assert final["paused"] is None and final["synced"] == 1
    assert harness.plex.item(key).fields["title"] == "New title"
