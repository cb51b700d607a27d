"""The hook's fallback when the database can't take its event in time: one small file per event.

**The no-loss rule.** A scene id is on disk before the hook answers Stash: an intake row committed, or a spool
file flushed and renamed into place (a reader sees a whole file or none). A spool file is deleted only after
the transaction that applied its ids committed (``Store.absorb_intake``); one that cannot be read now is kept
and tried again, one that cannot be deleted is remembered as applied (``spool_ledger``).

A hook waits only a short busy timeout for SQLite (the user's save waits for the hook), then writes here.
Standard library only: the hook path imports this.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import Any

SPOOL_DIR = "intake-spool"
SUFFIX = ".json"
STALE_TEMP_S = 3600.0  # a temporary file this old was left by a killed hook: it never became an event


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / SPOOL_DIR


def spool_event(data_dir: Path, event: dict[str, Any]) -> Path:
    """Write one event durably; returns its file. Raises OSError when even that is impossible."""
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}"
    temporary, final = folder / f"{name}.tmp", folder / f"{name}{SUFFIX}"
    with open(temporary, "wb") as stream:
        stream.write(json.dumps(event).encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, final)
    return final


def spooled_files(data_dir: Path, limit: int | None = None) -> list[Path]:
    """Spooled events, oldest first."""
    try:
        names = sorted(entry.name for entry in os.scandir(spool_dir(data_dir)) if entry.name.endswith(SUFFIX))
    except FileNotFoundError:
        return []
    return [spool_dir(data_dir) / name for name in names[:limit]]


def spool_count(data_dir: Path) -> int:
    return len(spooled_files(data_dir))


def read_event(path: Path) -> Any:
    """The event in one spooled file, or None when the whole file was read and is not JSON (it never becomes an
    event). Raises OSError when the file cannot be read now (too many open files, a network share's I/O error,
    a Windows sharing violation): the caller keeps it and tries again."""
    data = path.read_bytes()
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def remove_files(data_dir: Path, paths: list[Path]) -> dict[str, str]:
    """Delete absorbed files; also sweep temporary files a killed hook left behind. Returns the files that could
    not be deleted (a Windows sharing violation, a read-only share): name → why."""
    kept: dict[str, str] = {}
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            kept[path.name] = str(exc)
    cutoff_s = time.time() - STALE_TEMP_S
    for leftover in spool_dir(data_dir).glob("*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff_s:
                leftover.unlink()
        except OSError:
            pass
    return kept
