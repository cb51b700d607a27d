"""Lease expiry that survives wall-clock steps: the monotonic part of the one-worker rule (``worker.process.lease``).

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

LEASE_TTL_MAX_S = 120.0  # no lease is granted for longer (worker 45 s, a hook's reservation 45 s)


def lease_expiries(ttl_s: float) -> tuple[float, float]:
    """(wall-clock, monotonic) expiry of a lease granted now for ``ttl_s`` (at most LEASE_TTL_MAX_S)."""
    ttl_s = min(ttl_s, LEASE_TTL_MAX_S)
    return time.time() + ttl_s, time.monotonic() + ttl_s


def lease_unexpired(row: Mapping[str, Any], wall_now_s: float) -> bool:
    """The monotonic expiry decides; the wall one only for a row written without it."""
    expires_mono_s = row["expires_mono"]
    if expires_mono_s is not None:
        now_mono_s = time.monotonic()
        return now_mono_s <= expires_mono_s <= now_mono_s + LEASE_TTL_MAX_S
    return wall_now_s <= row["expires_at"] <= wall_now_s + LEASE_TTL_MAX_S
