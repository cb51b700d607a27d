"""What absorbing remembers about spool files between runs: two kv rows, read and written inside the absorbing
transaction.

Files applied but not deleted yet are never applied twice, however long a Windows sharing violation or a
read-only share keeps them; files not readable yet are counted, so a lasting failure is reported instead of
retried in silence.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterable

APPLIED_KEY = "spool_applied"  # {file name: when it was applied (time.time() seconds)}
UNREADABLE_KEY = "spool_unreadable"  # {file name: {"attempts": reads failed, "error": the last one's text}}
REPORT_AFTER_ATTEMPTS = 3  # a read that failed this often is reported (status, an Info line); tries go on


def still_there(ledger: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The entries whose file is still in the spool folder (the others were deleted since)."""
    return {name: entry for name, entry in ledger.items() if (folder / name).exists()}


def applied(ledger: dict[str, float], names: Iterable[str]) -> dict[str, float]:
    now_s = time.time()
    return {**ledger, **{name: now_s for name in names}}


def failed_reads(ledger: dict[str, dict[str, Any]], failures: dict[str, str],
                 read: Iterable[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ledger after one absorb (``failures``: name → why its read failed; ``read``: names read now), and the
    names whose failures just reached :data:`REPORT_AFTER_ATTEMPTS`."""
    ledger = {name: entry for name, entry in ledger.items() if name not in set(read)}
    reached = []
    for name, error in failures.items():
        attempts = int((ledger.get(name) or {}).get("attempts", 0)) + 1
        ledger[name] = {"attempts": attempts, "error": error[:500]}
        if attempts == REPORT_AFTER_ATTEMPTS:
            reached.append(name)
    return ledger, reached


def reported(ledger: dict[str, dict[str, Any]]) -> int:
    """Spool files whose reads keep failing (shown by status)."""
    return sum(1 for entry in ledger.values() if int(entry.get("attempts", 0)) >= REPORT_AFTER_ATTEMPTS)
