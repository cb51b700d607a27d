"""How long a scene waits before its next attempt, per kind of failure (the queue's long backoff).

In-call retries (a second or two) live in ``plex.client`` with tenacity; these delays are minutes and are
stored as the scene's ``not_before``, so a backed-off scene costs nothing until it falls due.
"""

from __future__ import annotations

import random

# Plex down or overloaded: short at first, capped so a restart of Plex is picked up within minutes.
TRANSIENT_BASE_S, TRANSIENT_CAP_S = 15.0, 600.0
# Plex rejected the request (4xx): a few attempts, then the dead-letter queue.
REJECTED_BASE_S, REJECTED_CAP_S = 30.0, 1800.0
# File not in Plex yet: Plex scans on its own schedule; the slow lane never counts as an outage.
NOT_FOUND_SCHEDULE_S = (120.0, 600.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0)
# Stash unreachable while hydrating or expanding a fan-out marker.
STASH_BASE_S, STASH_CAP_S = 10.0, 300.0


def exponential(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """base·2^(attempt-1), capped, with ±20% jitter so retries of a batch spread out."""
    rng = rng or random
    raw = min(cap, base * (2 ** max(0, attempt - 1)))
    return raw * rng.uniform(0.8, 1.2)


def transient_delay_s(attempt: int) -> float:
    return exponential(attempt, TRANSIENT_BASE_S, TRANSIENT_CAP_S)


def rejected_delay_s(attempt: int) -> float:
    return exponential(attempt, REJECTED_BASE_S, REJECTED_CAP_S)


def not_found_delay_s(attempt: int) -> float:
    index = min(max(0, attempt - 1), len(NOT_FOUND_SCHEDULE_S) - 1)
    return NOT_FOUND_SCHEDULE_S[index]


def stash_delay_s(attempt: int) -> float:
    return exponential(attempt, STASH_BASE_S, STASH_CAP_S)
