"""The threads that push to Plex, shared by the batches in flight, with as many pushes at once as keep Plex busy.

With a local Plex an answer takes a millisecond and our own CPU is the limit: a few pushes at once suffice.
Over a network each request waits out Plex's round trip, and pushes run one request after another, so more
must be in flight (Little's law) — bounded, so a real server is not flooded.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from validation.stash_log import get_logger

PUSH_WORKERS = 4  # the fewest pushes in flight (a local Plex: more would only contend for our CPU)
PUSH_WORKERS_MAX = 16  # the most, however slowly Plex answers
UNTRIED = object()  # a push not started because the drain stopped: its claim is given back untouched

log = get_logger("pushes")


class PushLimit:
    """At most ``limit`` pushes at once across every batch in flight; the limit can change between batches."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active = 0
        self._free = threading.Condition()

    def resize(self, limit: int) -> None:
        with self._free:
            self.limit = limit
            self._free.notify_all()

    def __enter__(self) -> None:
        with self._free:
            while self._active >= self.limit:
                self._free.wait()
            self._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._free:
            self._active -= 1
            self._free.notify()


class PushPool:
    """Runs pushes on up to PUSH_WORKERS_MAX threads, ``limit`` of them at once; never raises from a push."""

    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self.limit = PushLimit(PUSH_WORKERS)
        self._pool: ThreadPoolExecutor | None = None
        self._halt = threading.Event()  # set when the drain stops: pushes not yet started come back UNTRIED
        self._cpu_mark = (time.process_time(), runtime.plex_requests())

    def submit(self, push: Callable[[], Any]) -> Future:
        """The push's result or exception (as the future's result), or UNTRIED after :meth:`halt`."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=PUSH_WORKERS_MAX, thread_name_prefix="push")
        return self._pool.submit(self._run, push)

    def _run(self, push: Callable[[], Any]) -> Any:
        with self.limit:
            if self._halt.is_set():
                return UNTRIED
            try:
                return push()
            except Exception as exc:
                return exc

    def resume(self) -> None:
        self._halt.clear()

    def halt(self) -> None:
        self._halt.set()

    def close(self) -> None:
        """Wait for running pushes and end the threads (the next push starts new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def tune(self) -> None:
        """Size the pushes in flight to Plex's latency: while one request waits out Plex's round trip, others
        use our CPU, so round trip / our CPU per request (+1) keeps both Plex and us busy. Both are measured
        since the last call: the fastest answer (slower ones include waits for the GIL) and the process CPU
        time per Plex request (everything done per request: HTTP, XML, SQLite, reading Stash)."""
        cpu_s, sent = time.process_time(), self.rt.plex_requests()
        (cpu_before_s, sent_before), self._cpu_mark = self._cpu_mark, (cpu_s, sent)
        round_trip_s = self.rt.plex.session.take_fastest_round_trip()
        if round_trip_s is None or sent <= sent_before:
            return  # nothing answered (or a new client after a settings change): keep the current size
        cpu_per_request_s = max((cpu_s - cpu_before_s) / (sent - sent_before), 1e-4)
        limit = min(PUSH_WORKERS_MAX, max(PUSH_WORKERS, math.ceil(round_trip_s / cpu_per_request_s) + 1))
        if limit != self.limit.limit:
            log.debug("Pushes in flight: %d (Plex answers in %.1f ms; %.1f ms of our CPU per request)", limit,
                      round_trip_s * 1000, cpu_per_request_s * 1000)
        self.limit.resize(limit)
