"""Breaker state machine, queue backoff schedules and the lease heartbeat."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from freezegun import freeze_time

from sync_queue.store import Store
from worker.sync import backoff
from worker.sync.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from worker.process.lease import Lease, wait_for_free_lease


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path) as store:
        yield store


def test_breaker_opens_after_threshold_and_half_opens_after_cooldown(store):
    with freeze_time("2026-01-01 00:00:00") as clock:
        breaker = Breaker(store, threshold=3)
        assert [breaker.record_failure("refused") for _ in range(3)] == [False, False, True]
        assert breaker.state() == OPEN
        assert Breaker(store).state() == OPEN  # persisted: every process sees it
        clock.tick(31)
        assert breaker.state() == HALF_OPEN
        assert breaker.record_failure("still down") is True  # a failed probe re-opens, longer
        assert breaker.retry_at_s() - time.time() == pytest.approx(60, abs=1)
        clock.tick(61)
        breaker.record_success()
        assert breaker.state() == CLOSED and breaker.snapshot()["failures"] == 0


def test_success_resets_consecutive_failures(store):
    breaker = Breaker(store, threshold=3)
    breaker.record_failure("a")
    breaker.record_failure("b")
    breaker.record_success()
    assert breaker.record_failure("c") is False
    assert breaker.state() == CLOSED


def test_backoff_schedules_grow_and_cap():
    rng = random.Random(1)
    delays = [backoff.exponential(n, 10, 100, rng) for n in range(1, 8)]
    assert 8 <= delays[0] <= 12 and all(d <= 120 for d in delays)
    assert backoff.not_found_delay_s(1) == 120 and backoff.not_found_delay_s(99) == 6 * 3600
    assert backoff.transient_delay_s(20) <= backoff.TRANSIENT_CAP_S * 1.2


def test_lease_heartbeat_renews_and_release_frees(tmp_path, monkeypatch):
    monkeypatch.setattr("worker.process.lease.HEARTBEAT_EVERY_S", 0.05)
    monkeypatch.setattr("worker.process.lease.LEASE_TTL_S", 0.5)
    with Store(tmp_path) as store:
        lease = Lease(lambda: Store(tmp_path))
        assert lease.acquire(store)
        time.sleep(0.8)  # longer than the TTL: only the heartbeat keeps it
        assert store.lease_holder()["token"] == lease.token
        assert store.lease_holder()["wake_port"] == lease.wake_port
        lease.release(store)
        lease.close()
        assert store.lease_holder() is None


def test_wake_datagram_interrupts_the_sleep(tmp_path):
    from sync_queue.intake.launcher import wake

    lease = Lease(lambda: Store(tmp_path))
    started = time.monotonic()
    wake(lease.wake_port)
    assert lease.wait_for_wake(5.0) is True
    assert time.monotonic() - started < 2
    assert lease.wait_for_wake(0.05) is False
    lease.close()


def test_lost_lease_is_noticed(tmp_path, monkeypatch):
    monkeypatch.setattr("worker.process.lease.HEARTBEAT_EVERY_S", 0.05)
    with Store(tmp_path) as store:
        lease = Lease(lambda: Store(tmp_path))
        lease.acquire(store)
        store.conn.execute("UPDATE lease SET token = 'someone-else'")
        assert lease.lost.wait(2)
        lease.close()


def test_handoff_wait_returns_when_holder_leaves(store):
    store.acquire_lease("busy", ttl_s=0.3, pid=1)
    assert wait_for_free_lease(store, timeout_s=2, poll_s=0.05) is True
    assert store.handoff_requested("busy") is True


def test_a_missing_package_in_the_worker_is_recorded_with_the_install_fix(tmp_path):
    from sync_queue.schema import KV_SPAWN_PAUSE
    from worker.process.daemon import record_start_failure
    from worker.sync.pauses import WORKER_FAILURE_KEY

    with Store(tmp_path) as store:
        record_start_failure(store, ModuleNotFoundError("No module named 'plexapi'", name="plexapi"), tmp_path)
        failure = store.get_json(WORKER_FAILURE_KEY)
        assert "'plexapi'" in failure["message"] and "requirements.txt" in failure["message"]
        assert store.get_json(KV_SPAWN_PAUSE) > time.time() + 30  # hooks hold off spawning for a while


class WorkerThread(threading.Thread):
    """A background worker's side of the hand-over protocol on its own connection, as ``drain`` does it:
    adopt the lease (by token when a hook reserved it), check ``handoff_requested`` between batches,
    release when asked."""

    def __init__(self, data_dir, token: str | None = None, on_release=None) -> None:
        super().__init__(daemon=True)
        self.data_dir, self.token, self.on_release = data_dir, token, on_release
        self.adopted = threading.Event()
        self.released = threading.Event()

    def run(self) -> None:
        with Store(self.data_dir) as store:
            lease = Lease(lambda: Store(self.data_dir), self.token)
            assert lease.acquire(store)
            self.adopted.set()
            deadline = time.monotonic() + 10
            while not store.handoff_requested(lease.token) and time.monotonic() < deadline:
                time.sleep(0.02)  # one "batch"
            lease.release(store)
            lease.close()
            self.released.set()
            if self.on_release is not None:
                self.on_release(store)


def handoff_flag(data_dir) -> int:
    with Store(data_dir) as store:
        row = store.conn.execute("SELECT handoff FROM lease WHERE name = 'worker'").fetchone()
        return -1 if row is None else row[0]


def test_a_handover_request_survives_the_child_adopting_the_lease_its_hook_reserved(tmp_path):
    from sync_queue.intake.launcher import SPAWN_LEASE_S
    from worker.tasks.sync_tasks import take_over_lease

    with Store(tmp_path) as hook_store:  # ensure_worker: reserve the lease for the child it spawns
        assert hook_store.acquire_lease("child", SPAWN_LEASE_S, pid=0)
    result: list[object] = []
    task_lease = Lease(lambda: Store(tmp_path))

    def task() -> None:
        with Store(tmp_path) as store:
            try:
                take_over_lease(store, task_lease, timeout_s=5)
                result.append(store.lease_holder()["token"])
                task_lease.release(store)
            except Exception as exc:
                result.append(exc)

    asker = threading.Thread(target=task, daemon=True)
    asker.start()
    deadline = time.monotonic() + 5
    while handoff_flag(tmp_path) != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handoff_flag(tmp_path) == 1  # the task asked while the child was still starting
    child = WorkerThread(tmp_path, token="child")
    child.start()
    asker.join(8)
    task_lease.close()
    assert child.released.is_set() and result == [task_lease.token]


def test_a_task_asks_again_when_a_hook_starts_a_worker_in_the_handover_gap(tmp_path):
    from sync_queue.intake.launcher import SPAWN_LEASE_S
    from worker.tasks.sync_tasks import take_over_lease

    second = WorkerThread(tmp_path, token="hook-spawned")

    def hook_starts_a_worker(store) -> None:  # a hook saw the lease free and reserved it for a new worker
        assert store.acquire_lease("hook-spawned", SPAWN_LEASE_S, pid=0)
        second.start()

    first = WorkerThread(tmp_path, on_release=hook_starts_a_worker)
    first.start()
    assert first.adopted.wait(5)
    lease = Lease(lambda: Store(tmp_path))
    with Store(tmp_path) as store:
        take_over_lease(store, lease, timeout_s=8)
        assert store.lease_holder()["token"] == lease.token
        assert first.released.is_set() and second.released.is_set()
        lease.release(store)
    lease.close()
