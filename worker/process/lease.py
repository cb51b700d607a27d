"""The worker lease: a store row that lets one process drain, renewed by a heartbeat thread; the wake-up socket.

**The one-worker rule.** At most one process drains; a killed holder's lease expires within its TTL
(:data:`LEASE_TTL_S`) and its claims become pending again when the next process acquires the lease. The lease
lives in the store (cross-platform, no file locks); ``sync_queue.clock`` keeps its expiry on the monotonic clock,
so a wall-clock step neither frees a live lease nor holds a dead one.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from sync_queue.intake.launcher import wake
from sync_queue.store import Store

LEASE_TTL_S = 45.0
HEARTBEAT_EVERY_S = 10.0


class LeaseLost(RuntimeError):
    """Another process holds the lease now (ours expired, or a task asked for a hand-off)."""


class Lease:
    """Holds the worker lease while a heartbeat thread renews it; owns the wake-up socket."""

    def __init__(self, store_factory, token: str | None = None) -> None:
        self._store_factory = store_factory  # the heartbeat thread needs its own SQLite connection
        self.token = token or uuid.uuid4().hex
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wake_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.wake_socket.bind(("127.0.0.1", 0))

    @property
    def wake_port(self) -> int:
        return int(self.wake_socket.getsockname()[1])

    def acquire(self, store: Store) -> bool:
        """Take the lease; intake rows a killed holder took but never applied become ready again."""
        ok = store.acquire_lease(self.token, LEASE_TTL_S, pid=os.getpid(), wake_port=self.wake_port)
        if ok:
            store.resume_intake()  # only the lease holder absorbs, so no live process is mid-way through them
        if ok and self._thread is None:
            self._stop.clear()
            self.lost.clear()
            self._thread = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
            self._thread.start()
        return ok

    def _heartbeat(self) -> None:
        store = self._store_factory()
        try:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                try:
                    if not store.renew_lease(self.token, LEASE_TTL_S):
                        self.lost.set()
                        return
                except Exception:  # a locked database for 30 s: try again next beat, the TTL has slack
                    continue
        finally:
            store.close()

    def wait_for_wake(self, timeout_s: float) -> bool:
        """Sleep until a hook nudges us or ``timeout_s`` passes; True when woken."""
        self.wake_socket.settimeout(max(0.01, timeout_s))
        try:
            self.wake_socket.recv(64)
        except (socket.timeout, OSError):
            return False
        # Drain the rest of a burst (a bulk edit sends one nudge per scene).
        self.wake_socket.setblocking(False)
        try:
            while True:
                self.wake_socket.recv(64)
        except OSError:
            pass
        return True

    def release(self, store: Store) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        store.release_lease(self.token)

    def close(self) -> None:
        self._stop.set()
        self.wake_socket.close()


def wait_for_free_lease(store: Store, timeout_s: float, poll_s: float = 0.25) -> bool:
    """Ask the current holder to hand over and wait until it does (or its lease expires). A holder that
    took the lease meanwhile (a hook started a new worker in the gap) is asked too."""
    deadline_mono_s = time.monotonic() + timeout_s
    asked: str | None = None
    while True:
        holder = store.lease_holder()
        if holder is None:
            return True
        if holder["token"] != asked:
            asked = holder["token"]
            store.request_handoff()
            wake(holder["wake_port"])  # a sleeping worker sees the request now, not at its next due time
        if time.monotonic() >= deadline_mono_s:
            return False
        time.sleep(poll_s)
