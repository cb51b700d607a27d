"""What the store relies on in persist-queue beyond its public API (requirements.txt pins 1.1.x).

Hooks insert intake rows themselves and ``status`` reads the table directly (one snapshot with the scenes
table, no persist-queue import in the hook). If a persist-queue release changes the table, its columns, its
serialisation or its status values, these fail before a user's status silently goes wrong.
"""

from __future__ import annotations

import sqlite3

from persistqueue import AckStatus, SQLiteAckQueue
from persistqueue.serializers import json as json_serializer

from sync_queue import schema
from sync_queue.store import Store


def _persist_queue(data_dir) -> SQLiteAckQueue:
    return SQLiteAckQueue(str(data_dir), name=schema.INTAKE_NAME, db_file_name=schema.DB_FILE,
                          serializer=json_serializer, auto_resume=False, multithreading=True)


def test_our_intake_table_is_the_one_persist_queue_creates(tmp_path):
    queue = _persist_queue(tmp_path / "theirs")
    queue.close()
    conn = sqlite3.connect(tmp_path / "theirs" / schema.DB_FILE)
    theirs = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (schema.INTAKE_TABLE.strip("`"),))
    assert theirs.fetchone()[0] == schema.CREATE_INTAKE.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE")
    conn.close()


def test_status_values_are_persist_queues():
    assert (schema.INTAKE_NEW, schema.INTAKE_TAKEN, schema.INTAKE_ACKED) == (
        int(AckStatus.inited), int(AckStatus.unack), int(AckStatus.acked))


def test_a_hooks_row_is_read_taken_and_acked_by_persist_queue(tmp_path):
    event = {"kind": "scene", "id": "7", "event": "Scene.Update.Post", "at": 1.5, "name": "Café"}
    with Store(tmp_path) as store:
        store.append_event(event)
        assert store.intake_size() == 1
        queue = _persist_queue(tmp_path)
        try:
            taken = queue.get(block=False, raw=True)
            assert taken["data"] == event
            assert store.intake_size() == 0 and store.status_counts(None)["pending"] == 1  # taken, not applied
            queue.ack(id=taken["pqid"])
            assert store.status_counts(None)["pending"] == 0
        finally:
            queue.close()


def test_a_hooks_row_is_byte_for_byte_what_persist_queues_put_writes(tmp_path):
    """The hook writes persist-queue's row itself (no persist-queue import on the hook path): the same
    serialisation, column types and status as ``put``, or a persist-queue change fails here first."""
    event = {"kind": "scene", "id": "7", "event": "Scene.Update.Post", "at": 1.5, "name": "Café 日本"}
    queue = _persist_queue(tmp_path / "theirs")
    try:
        queue.put(event)
    finally:
        queue.close()
    with Store(tmp_path / "ours") as store:
        store.append_event(event)
    row_sql = f"SELECT typeof(data), data, typeof(timestamp), status FROM {schema.INTAKE_TABLE}"
    rows = []
    for side in ("theirs", "ours"):
        conn = sqlite3.connect(tmp_path / side / schema.DB_FILE)
        rows.append(conn.execute(row_sql).fetchall())
        conn.close()
    assert rows[0] == rows[1] and len(rows[0]) == 1
    assert rows[0][0][3] == schema.INTAKE_NEW
