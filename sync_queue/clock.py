"""Lease expiry that survives wall-clock steps.

A lease carries its expiry twice: on the wall clock (what a person reads in ``status``) and on the monotonic
clock, which no NTP correction or manual change moves. ``time.monotonic`` counts from boot on every platform
PlexSync runs on (Linux CLOCK_MONOTONIC, Windows' tick count, macOS' mach clock), so processes on one machine
compare it directly. What is read back is bounded: an expiry further ahead than any lease is ever granted
came from before a reboot (the monotonic clock restarted) and counts as expired.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import Any, Mapping

LEASE_TTL_MAX = 120.0  # no lease is granted for longer (worker 45 s, a hook's reservation 45 s)


def lease_expiries(ttl: float) -> tuple[float, float]:
    """(wall-clock, monotonic) expiry of a lease granted now for ``ttl`` seconds (at most LEASE_TTL_MAX)."""
    ttl = min(ttl, LEASE_TTL_MAX)
    return time.time() + ttl, time.monotonic() + ttl


def lease_unexpired(row: Mapping[str, Any], wall_now: float) -> bool:
    """The monotonic expiry decides; the wall one only for a row written without it."""
    mono = row["expires_mono"]
    if mono is not None:
        now = time.monotonic()
        return now <= mono <= now + LEASE_TTL_MAX
    return wall_now <= row["expires_at"] <= wall_now + LEASE_TTL_MAX
