"""When ``plexsync.db`` is damaged: move it aside with its -wal/-shm and let the store start afresh.

Everything in it can be rebuilt: links are found again by file path, fingerprints by a Sync All. Keeping a
damaged file would lose every later event ("file is not a database"), so the hook path sets it aside the
moment it notices and keeps answering. Standard library only: the hook path imports this.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

SIDE_FILES = ("", "-wal", "-shm")  # a stale WAL would be replayed into the fresh database: move it too
LOCK_SUFFIX = ".repair-lock"
STALE_LOCK_S = 60.0  # a repairer killed mid-way leaves its lock behind
LOCK_WAIT_S = 3.0
_CORRUPTION_NAMES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_CORRUPTION_TEXT = ("file is not a database", "database disk image is malformed")


class StoreUnrecoverable(sqlite3.DatabaseError):
    """The database is damaged and could not be moved aside (e.g. another program holds it on Windows)."""


def is_corruption(exc: BaseException) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB (by code on Python 3.11+, by message on 3.10)."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, StoreUnrecoverable):
        return False
    name = getattr(exc, "sqlite_errorname", None)
    return name in _CORRUPTION_NAMES if name else any(text in str(exc) for text in _CORRUPTION_TEXT)


def damaged(db_path: Path) -> bool:
    """Is the file at ``db_path`` (still) unreadable? A fresh file someone else just created is not."""
    if not db_path.exists():
        return False
    try:  # read-only: a read-write connection to a damaged file deletes the -wal we are about to keep
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_S)
        try:
            return conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return is_corruption(exc)


def set_aside(db_path: Path) -> Path | None:
    """Move a damaged database (and its -wal/-shm) to ``<name>.corrupt-<UTC time>``; returns the new path.

    None when another process repaired it first (one lock file decides who moves it, and the file is
    checked again under the lock, so nobody moves a fresh database someone else just started).
    """
    lock = db_path.with_name(db_path.name + LOCK_SUFFIX)
    if not _take_lock(lock):
        return None
    try:
        if not damaged(db_path):
            return None
        target = db_path.with_name(f"{db_path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        for suffix in SIDE_FILES:
            source = db_path.with_name(db_path.name + suffix)
            if source.exists():
                try:
                    os.replace(source, target.with_name(target.name + suffix))
                except OSError as exc:
                    raise StoreUnrecoverable(
                        f"PlexSync's queue database {db_path} is damaged and could not be moved aside ({exc}). "
                        "Stop anything that has it open, then move or delete it: PlexSync starts a fresh one."
                    ) from exc
        return target
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass


def _take_lock(lock: Path) -> bool:
    """True when we hold the repair lock; False when another process repaired while we waited."""
    deadline_mono_s = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            pass
        try:
            if time.time() - lock.stat().st_mtime > STALE_LOCK_S:
                os.unlink(lock)
                continue
        except OSError:
            continue  # it vanished between the two calls: try again
        if time.monotonic() > deadline_mono_s:
            return False
        time.sleep(0.05)


def reset_message(moved_to: Path, reason: str) -> str:
    return (
        f"PlexSync's queue database was damaged ({reason}) and was moved aside to {moved_to}; a fresh one "
        "was started and new edits are queued as usual. Nothing needs restoring: links to Plex items are found "
        "again by file path, and a Sync All task re-sends whatever the old queue still held."
    )
