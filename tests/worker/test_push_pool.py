"""How many pushes the worker keeps in flight: sized to Plex's round trip, bounded both ways; halting gives
queued pushes back untried. Counted with events, never timed."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from worker.sync import push_pool
from worker.sync.push_pool import PUSH_WORKERS, PUSH_WORKERS_MAX, UNTRIED, PushPool


class FakeRuntime:
    """The two things the pool reads from the runtime: Plex requests sent and the fastest answer."""

    def __init__(self) -> None:
        self.sent = 0
        self.fastest: float | None = None
        self.plex = SimpleNamespace(session=SimpleNamespace(take_fastest_round_trip=lambda: self.fastest))

    def plex_requests(self) -> int:
        return self.sent


@pytest.fixture()
def cpu(monkeypatch):
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(push_pool.time, "process_time", lambda: clock.now)
    return clock


@pytest.mark.parametrize("round_trip, expected", [
    (0.0005, PUSH_WORKERS),  # a local Plex answers in half a millisecond: our CPU is the limit
    (0.008, 9),  # 8 ms round trip / 1 ms of our CPU per request, +1
    (0.020, PUSH_WORKERS_MAX),  # a slow network: bounded, a real server is not flooded
])
def test_pushes_in_flight_follow_the_round_trip(cpu, round_trip, expected):
    runtime = FakeRuntime()
    pool = PushPool(runtime)
    runtime.sent, runtime.fastest, cpu.now = 200, round_trip, 0.2  # 1 ms of CPU per request
    pool.tune()
    assert pool.limit.limit == expected


def test_no_answer_or_a_new_client_keeps_the_size(cpu):
    runtime = FakeRuntime()
    pool = PushPool(runtime)
    runtime.sent, runtime.fastest, cpu.now = 100, 0.02, 0.1
    pool.tune()
    runtime.sent, runtime.fastest = 3, 0.0005  # settings changed: a new client counts from zero
    pool.tune()
    assert pool.limit.limit == PUSH_WORKERS_MAX


def test_a_halt_gives_queued_pushes_back_untried_and_lets_running_ones_finish(cpu):
    pool = PushPool(FakeRuntime())
    pool.limit.resize(1)
    running, release = threading.Event(), threading.Event()

    def first() -> str:
        running.set()
        release.wait(30)
        return "pushed"

    futures = [pool.submit(first), pool.submit(lambda: "second"), pool.submit(lambda: 1 / 0)]
    assert running.wait(30)
    pool.halt()
    release.set()
    assert [future.result(30) for future in futures] == ["pushed", UNTRIED, UNTRIED]
    pool.resume()
    failed = pool.submit(lambda: 1 / 0).result(30)
    assert isinstance(failed, ZeroDivisionError)  # a push's exception is its result, never raised
    pool.close()
