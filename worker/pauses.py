"""Queue-wide pauses: a rejected token or a missing library stops all work until fixed.

Jobs are never dead-lettered for these: they wait, and ``status``/``health`` say why.
"""

from __future__ import annotations

import time
from typing import Any

from sync_queue.schema import KV_SPAWN_PAUSE
from sync_queue.store import Store

PAUSE_KEY = "pause"
HOOK_SPAWN_QUIET_SECONDS = 300.0  # while paused, hooks only queue; a worker retries after this


class Pause(Exception):
    """Stop draining now. ``kind``: auth | config | outage | stash."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None, report: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.report = report


def set_pause(store: Store, kind: str, message: str) -> None:
    with store.transaction():
        store.set_json(PAUSE_KEY, {"kind": kind, "message": message, "since": time.time()})
        store.set_json(KV_SPAWN_PAUSE, time.time() + HOOK_SPAWN_QUIET_SECONDS)


def clear_pause(store: Store) -> None:
    with store.transaction():
        store.delete_key(PAUSE_KEY)
        store.delete_key(KV_SPAWN_PAUSE)


def current_pause(store: Store) -> dict[str, Any] | None:
    return store.get_json(PAUSE_KEY, None)
