"""A long-lived worker follows edits to PlexSync's settings instead of keeping the ones it started with."""

from __future__ import annotations

import time

from sync_queue.schema import KV_SETTINGS_CACHE
from sync_queue.store import Store
from worker.process.daemon import serve
from worker.process.lease import Lease


def serve_holding_the_lease(rt, world) -> str:
    """Run the detached worker's loop in-process; returns why it stopped."""
    lease = Lease(lambda: Store(world.data_dir))
    assert lease.acquire(rt.store)
    try:
        return serve(rt, lease)
    finally:
        lease.release(rt.store)
        lease.close()


def test_changed_settings_replace_the_running_ones_and_the_plex_client(world):
    rt = world.runtime()
    first_client = rt.plex
    assert rt.refresh_settings(max_age_s=0) is False  # nothing changed: keep everything
    assert rt.plex is first_client
    world.settings(max_tags=3, settle_seconds=9)
    assert rt.refresh_settings(max_age_s=30) is False  # read moments ago: not yet
    assert rt.refresh_settings(max_age_s=0) is True
    assert rt.config.max_tags == 3
    assert rt.plex is not first_client  # a new token or URL must reach the client too
    assert rt.store.get_json(KV_SETTINGS_CACHE)["settle_seconds"] == 9  # what hooks read
    rt.close()


def test_invalid_new_settings_keep_the_previous_ones(world):
    rt = world.runtime()
    world.settings(max_retries="lots")
    assert rt.refresh_settings(max_age_s=0) is False
    assert rt.config.max_retries == 5
    rt.close()


def test_worker_stops_once_plexsync_is_switched_off(world, monkeypatch):
    monkeypatch.setattr("worker.process.daemon.IDLE_HORIZON_S", 0.0)  # a worker that ignored the switch returns "idle"
    scene_id, _ = world.scene("later.mp4", plex=False)  # pending work keeps the worker alive
    world.queue(scene_id)
    rt = world.runtime()
    world.settings(sync_paused=True)
    rt.settings_read_mono_s = time.monotonic() - 60  # as if it had been running a while
    assert serve_holding_the_lease(rt, world) == "disabled"
    assert rt.store.get_json(KV_SETTINGS_CACHE)["enabled"] is False  # hooks stop queueing too
    assert world.state(scene_id)["generation"] > world.state(scene_id)["done_generation"]  # work kept
    rt.close()


def test_worker_backs_off_longer_while_stash_is_down_then_exits(world, monkeypatch):
    from worker.sync import backoff

    scene_id, _ = world.scene("stash-down.mp4")
    world.queue(scene_id)
    rt = world.runtime()
    world.stash.fail(times=10_000, status=503)  # Stash stopped after the worker started
    asked = []

    def no_wait(attempt):
        asked.append(attempt)
        return 0.0

    monkeypatch.setattr(backoff, "stash_delay_s", no_wait)
    assert serve_holding_the_lease(rt, world) == "stash"
    assert asked == [1, 2, 3, 4, 5, 6]  # each failure in a row waits longer
    state = world.state(scene_id)
    assert state["attempts"] == 0 and state["generation"] > state["done_generation"]  # not the scene's fault
    status = world.run("status")
    assert status["stash_failing"]["count"] == 6 and status["dead"] == 0
    rt.close()
