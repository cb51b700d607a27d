"""Circuit breaker around Plex, persisted in the store so every process sees one state.

closed → (N consecutive transient failures) → open → (cool-down over) → half_open: one probe of
``/identity`` → closed on success, open again (longer cool-down) on failure. Item-level outcomes
(not found, ambiguous, 4xx) never count: only "Plex did not answer properly" does.
"""

from __future__ import annotations

import time
from typing import Any

from sync_queue.schema import CLOCK_SLACK_S
from sync_queue.store import Store
from validation.stash_log import event, get_logger

BREAKER_KEY = "breaker"
FAILURE_THRESHOLD = 5
COOLDOWN_BASE_S, COOLDOWN_CAP_S = 30.0, 600.0

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

log = get_logger("breaker")


def _retry_at_s(data: dict[str, Any], now_s: float) -> float:
    """The end of the cool-down; a circuit opened "in the future" (the wall clock stepped back since) is due
    for its probe now instead of staying open for the step as well."""
    if float(data.get("opened_at", 0)) > now_s + CLOCK_SLACK_S:
        return now_s
    return float(data.get("retry_at", 0))


class Breaker:
    def __init__(self, store: Store, threshold: int = FAILURE_THRESHOLD) -> None:
        self.store = store
        self.threshold = threshold

    def _load(self) -> dict[str, Any]:
        return self.store.get_json(BREAKER_KEY, None) or {"state": CLOSED, "failures": 0, "trips": 0}

    def state(self, now_s: float | None = None) -> str:
        data = self._load()
        now_s = time.time() if now_s is None else now_s
        if data["state"] == OPEN and now_s >= _retry_at_s(data, now_s):
            return HALF_OPEN
        return data["state"]

    def retry_at_s(self) -> float | None:
        data = self._load()
        return _retry_at_s(data, time.time()) if data["state"] == OPEN else None

    def snapshot(self) -> dict[str, Any]:
        data = self._load()
        data["state"] = self.state()
        return data

    def record_success(self) -> None:
        data = self._load()
        if data["state"] != CLOSED or data["failures"]:
            self.store.set_json(BREAKER_KEY, {"state": CLOSED, "failures": 0, "trips": 0})

    def record_failure(self, reason: str, retry_after_s: float | None = None) -> bool:
        """Count one transient failure; returns True when this failure opened the circuit.

        ``retry_after_s`` (Plex's ``Retry-After``, e.g. with a 429) opens the circuit at once for that long:
        Plex said when to come back, so nobody knocks before then."""
        with self.store.transaction():
            data = self._load()
            data["failures"] = data.get("failures", 0) + 1
            data["last_error"] = reason[:500]
            current = self.state()
            opened = current == HALF_OPEN or (current == CLOSED and data["failures"] >= self.threshold)
            if opened or retry_after_s:
                data["trips"] = data.get("trips", 0) + (1 if opened else 0)
                cooldown_s = min(COOLDOWN_CAP_S, COOLDOWN_BASE_S * 2 ** (max(1, data["trips"]) - 1))
                wait_s = max(cooldown_s if opened else 0.0, retry_after_s or 0.0)
                data.update(state=OPEN, opened_at=time.time(), retry_at=max(data.get("retry_at") or 0,
                                                                          time.time() + wait_s))
                opened = True
            self.store.set_json(BREAKER_KEY, data)
        if opened and current != OPEN:
            log.warning("Plex circuit opened after %d failures; next try in %.0f s: %s", data["failures"],
                        max(0.0, data["retry_at"] - time.time()), data["last_error"],
                        extra=event("circuit.opened", failures=data["failures"], retry_at=round(data["retry_at"], 3)))
        return opened

    def force_close(self) -> None:
        self.store.set_json(BREAKER_KEY, {"state": CLOSED, "failures": 0, "trips": 0})
