"""Queue-wide pauses: a rejected token or a missing library stops all work until fixed.

Jobs are never dead-lettered for these: they wait, and ``status``/``health`` say why.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from sync_queue.schema import KV_SPAWN_PAUSE
from sync_queue.store import Store

PAUSE_KEY = "pause"
STASH_FAILURES_KEY = "stash_failures"
WORKER_FAILURE_KEY = "worker_start_failure"  # why the last background worker could not start (status shows it)
HOOK_SPAWN_QUIET_S = 300.0  # while paused, hooks only queue; a worker retries after this
# After a rejected token, a worker started this soon only re-reads the settings (no Plex request unless the URL
# or token changed), so a corrected token resumes the queue on the next edit instead of minutes later.
AUTH_RECHECK_S = 10.0


class Pause(Exception):
    """Stop draining now. ``kind``: auth | config | outage | stash."""

    def __init__(self, kind: str, message: str, retry_after_s: float | None = None, report: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after_s = retry_after_s  # our clock: when to try again
        self.report = report


def set_pause(store: Store, kind: str, message: str, config: Any = None) -> None:
    """Pause the queue. ``config``: the settings Plex refused; a salted hash of their URL and token (never
    the token) is kept so a worker can tell, without asking Plex, whether they have changed since."""
    pause: dict[str, Any] = {"kind": kind, "message": message, "since": time.time()}
    if config is not None:
        pause["salt"] = secrets.token_hex(8)
        pause["settings"] = plex_settings_hash(config, pause["salt"])
    quiet_s = AUTH_RECHECK_S if kind == "auth" and config is not None else HOOK_SPAWN_QUIET_S
    with store.transaction():
        store.set_json(PAUSE_KEY, pause)
        store.set_json(KV_SPAWN_PAUSE, time.time() + quiet_s)


def plex_settings_hash(config: Any, salt: str) -> str:
    token = config.plex_token
    token = token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
    return hashlib.sha256(f"{salt}\0{config.plex_url}\0{token}".encode("utf-8")).hexdigest()


def settings_unchanged_since_pause(pause: dict[str, Any] | None, config: Any) -> bool:
    """True when an auth pause was set for exactly these Plex URL and token (probing again would only get
    the same 401); False when they changed, or the pause does not know."""
    if not pause or pause.get("kind") != "auth" or not pause.get("settings"):
        return False
    return hmac.compare_digest(pause["settings"], plex_settings_hash(config, str(pause.get("salt", ""))))


def hold_spawns(store: Store, quiet_s: float) -> None:
    store.set_json(KV_SPAWN_PAUSE, time.time() + quiet_s)


def clear_pause(store: Store) -> None:
    with store.transaction():
        store.delete_key(PAUSE_KEY)
        store.delete_key(KV_SPAWN_PAUSE)


def current_pause(store: Store) -> dict[str, Any] | None:
    return store.get_json(PAUSE_KEY, None)


def record_stash_failure(store: Store, error: Exception) -> int:
    """Count one more consecutive failure to read scenes from Stash; returns the count (for the backoff)."""
    with store.transaction():
        failing = store.get_json(STASH_FAILURES_KEY, None) or {"count": 0, "since": time.time()}
        failing.update(count=failing["count"] + 1, last_error=str(error)[:500], last_at=time.time())
        store.set_json(STASH_FAILURES_KEY, failing)
    return int(failing["count"])


def clear_stash_failures(store: Store) -> None:
    if store.get_json(STASH_FAILURES_KEY, None) is not None:
        store.delete_key(STASH_FAILURES_KEY)


def stash_failures(store: Store) -> dict[str, Any] | None:
    """``{count, since, last_error, last_at}`` while Stash keeps failing, else None (shown by status)."""
    return store.get_json(STASH_FAILURES_KEY, None)
