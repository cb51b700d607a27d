"""Wall-clock steps: a stamp written before the clock stepped back must not stretch a wait by the step, and
a step forward must not expire a live worker's lease. Clocks are frozen (freezegun) or the step is injected."""

from __future__ import annotations

import os
import time

import pytest
from freezegun import freeze_time

from sync_queue.store import Store
from worker.sync.breaker import HALF_OPEN, OPEN, Breaker

BEFORE = "2026-03-01 13:00:00"  # the wall clock read this…
AFTER = "2026-03-01 12:00:00"  # …then NTP (or a person) set it back an hour


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path) as store:
        yield store


def test_an_open_circuit_is_not_stretched_by_a_step_back(store):
    with freeze_time(BEFORE) as clock:
        breaker = Breaker(store, threshold=1)
        assert breaker.record_failure("refused") is True
        clock.tick(5)
        assert breaker.state() == OPEN  # a 30 s cool-down, 5 s in
        clock.move_to(AFTER)
        assert breaker.state() == HALF_OPEN  # probe now, not in an hour and 25 s
        assert breaker.retry_at_s() == pytest.approx(time.time())


def test_a_spawn_pause_is_not_stretched_by_a_step_back(store, monkeypatch):
    from sync_queue.intake.launcher import ensure_worker, spawn_paused
    from worker.sync.pauses import set_pause

    monkeypatch.setattr("sync_queue.intake.launcher.spawn_worker", lambda entry, handoff, cwd: 0)
    with freeze_time(BEFORE) as clock:
        set_pause(store, "auth", "Plex rejected the token (401)")
        assert spawn_paused(store, time.time())
        assert ensure_worker(store, store.data_dir / "PlexSync.py", {}) == "paused"
        clock.move_to(AFTER)
        assert not spawn_paused(store, time.time())
        assert ensure_worker(store, store.data_dir / "PlexSync.py", {}) == "started"


def test_backed_off_and_settling_work_is_due_after_a_step_back(store):
    with freeze_time(BEFORE) as clock:
        store.acquire_lease("w", 45, pid=os.getpid())
        store.queue_scenes([5])
        [claim] = store.claim_batch("w", 10)
        store.mark_retry("w", claim.scene_id, delay_s=60, error_class="PlexUnavailable", message="down")
        store.append_event({"kind": "scene", "id": "6", "at": time.time()})
        store.append_event({"kind": "tag", "id": "3", "at": time.time()})
        store.absorb_intake(settle_s=30)
        assert store.claim_batch("w", 10) == [] and store.due_fanouts() == []
        clock.move_to(AFTER)
        assert store.next_due_s() == pytest.approx(time.time())
        store.acquire_lease("w", 45, pid=os.getpid())  # the heartbeat renews it on the new clock
        assert sorted(c.scene_id for c in store.claim_batch("w", 10)) == [5, 6]
        assert store.due_fanouts() == [("tag", "3", 0)]


def test_a_postponed_fanout_is_due_after_a_step_back(store):
    with freeze_time(BEFORE) as clock:
        store.append_event({"kind": "performer", "id": "8", "at": time.time()})
        store.absorb_intake(settle_s=0)
        store.postpone_fanout("performer", "8", delay_s=300, error="Stash busy")
        assert store.due_fanouts() == []
        clock.move_to(AFTER)
        assert [kind for kind, _, _ in store.due_fanouts()] == ["performer"]


def test_a_step_forward_does_not_expire_a_live_workers_lease(store, monkeypatch):
    assert store.acquire_lease("live", 45, pid=os.getpid())
    store.queue_scenes([1])
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # the wall clock jumps an hour ahead
    assert store.lease_holder()["token"] == "live"
    assert store.acquire_lease("second-worker", 45, pid=os.getpid()) is False  # no second drainer
    assert [claim.scene_id for claim in store.claim_batch("live", 10)] == [1]  # the holder keeps working


def test_a_lease_from_before_a_reboot_is_not_trusted(store):
    assert store.acquire_lease("old", 45, pid=os.getpid())
    store.conn.execute("UPDATE lease SET expires_mono = ?", (time.monotonic() + 10_000,))
    assert store.lease_holder() is None


def test_the_delays_the_worker_sets_fit_the_bounds_the_store_reads_back():
    from sync_queue.clock import LEASE_TTL_MAX_S
    from sync_queue.intake.launcher import SPAWN_LEASE_S
    from sync_queue.schema import SPAWN_PAUSE_MAX_S
    from worker.process.daemon import START_FAILURE_QUIET_S
    from worker.process.lease import LEASE_TTL_S
    from worker.sync.pauses import HOOK_SPAWN_QUIET_S

    assert max(HOOK_SPAWN_QUIET_S, START_FAILURE_QUIET_S) <= SPAWN_PAUSE_MAX_S
    assert max(LEASE_TTL_S, SPAWN_LEASE_S) <= LEASE_TTL_MAX_S
