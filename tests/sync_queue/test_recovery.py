"""A damaged file is set aside once and the store starts afresh; a full disk is reported as a full disk."""

from __future__ import annotations

import sqlite3

import pytest

from sync_queue import recovery
from sync_queue.schema import DB_FILE, KV_STORE_RESET
from sync_queue.store import Store


def test_a_full_database_reports_the_real_cause_not_the_failed_rollback(tmp_path):
    with Store(tmp_path) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLITE_FULL, as a full disk gives
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            store.queue_scenes(range(20_000))
        assert not store.conn.in_transaction
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        assert store.queue_scenes([1]) == 1 and store.counts()["pending"] == 1  # nothing half-written stays


def _damage_pages(path, keep_header: int = 4096) -> None:
    raw = bytearray(path.read_bytes())
    raw[keep_header:] = b"\xa5" * (len(raw) - keep_header)
    path.write_bytes(bytes(raw))


def test_the_integrity_check_sets_a_damaged_file_aside_and_tells_once(tmp_path):
    with Store(tmp_path) as store:
        store.queue_scenes(range(5000))
    _damage_pages(tmp_path / DB_FILE)  # the header still says "SQLite": only a check of the pages tells
    with Store(tmp_path) as store:
        assert store.verify_integrity() is False
        assert store.counts()["pending"] == 0  # a fresh file
        note = store.get_json(KV_STORE_RESET)
        moved = tmp_path / note["moved_to"]
        assert moved.exists() and moved.name.startswith(f"{DB_FILE}.corrupt-")
        assert "Sync All" in store.store_reset_to_announce()
        assert store.store_reset_to_announce() is None
        assert store.verify_integrity() is True


def test_a_second_repairer_leaves_the_fresh_file_alone(tmp_path):
    (tmp_path / DB_FILE).write_bytes(b"garbage" * 100)
    (tmp_path / f"{DB_FILE}-wal").write_bytes(b"stale wal")
    moved = recovery.set_aside(tmp_path / DB_FILE)
    assert moved is not None and (moved.parent / f"{moved.name}-wal").read_bytes() == b"stale wal"
    with Store(tmp_path) as store:
        store.queue_scenes([1])
        assert recovery.set_aside(tmp_path / DB_FILE) is None  # it noticed late; the file is sound now
        assert store.counts()["pending"] == 1


def test_other_database_errors_are_not_mistaken_for_damage():
    assert recovery.is_corruption(sqlite3.DatabaseError("file is not a database"))
    assert not recovery.is_corruption(sqlite3.OperationalError("database is locked"))
    assert not recovery.is_corruption(sqlite3.OperationalError("disk I/O error"))


def test_a_repair_lock_left_by_a_killed_process_does_not_block_the_next_repair(tmp_path):
    import os

    (tmp_path / DB_FILE).write_bytes(b"garbage" * 100)
    lock = tmp_path / f"{DB_FILE}{recovery.LOCK_SUFFIX}"
    lock.write_bytes(b"")
    old = lock.stat().st_mtime - recovery.STALE_LOCK_S - 5
    os.utime(lock, (old, old))
    assert recovery.set_aside(tmp_path / DB_FILE) is not None
    assert not lock.exists()
