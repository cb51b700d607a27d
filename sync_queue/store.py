"""The one durable store: a single SQLite file in WAL mode.

Hooks append events to persist-queue's ``SQLiteAckQueue`` (JSON serializer); the lease-holding worker
absorbs them into the ``scenes`` / ``fanout`` tables, where work is coalesced per object and read by due
time. Every multi-step change runs inside :meth:`Store.transaction`, so a SIGKILL at any instant leaves
either the old or the new state. Imported by the hook path: standard library + persist-queue only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sync_queue import recovery, schema, spool
from sync_queue.clock import lease_expiries, lease_unexpired
from sync_queue.plex_index import PlexIndexMixin
from sync_queue.processes import pid_alive
from sync_queue.scenes import FANOUT_KINDS, SceneStateMixin
from sync_queue.stats import StatsMixin
from validation.stash_log import get_logger

BUSY_TIMEOUT_SECONDS = 30.0
SQL_VARIABLES_PER_QUERY = 500

log = get_logger("store")


def _event_keys(events: list[Any]) -> list[tuple[str, str]]:
    """The (kind, id) of each well-formed intake event (a scene's id is a number; a fan-out's any text)."""
    keys = []
    for event in events:
        if isinstance(event, dict) and isinstance(event.get("kind"), str):
            object_id = str(event.get("id", ""))
            if object_id and (event["kind"] in FANOUT_KINDS or object_id.isdigit()):
                keys.append((event["kind"], str(int(object_id)) if object_id.isdigit() else object_id))
    return keys


def _run_ddl(conn: sqlite3.Connection, statement: str) -> None:
    """Every statement may run again on a file an older version made: a column added before is no error."""
    try:
        conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if not (statement.startswith("ALTER TABLE") and "duplicate column" in str(exc)):
            raise


def _lease_live(row: sqlite3.Row, now: float) -> bool:
    return lease_unexpired(row, now) and pid_alive(row["pid"])


class Store(SceneStateMixin, PlexIndexMixin, StatsMixin):
    """Queue, per-scene sync state, dead letters, Plex index, key-value state and the worker lease."""

    def __init__(self, data_dir: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / schema.DB_FILE
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._intake: Any = None

    # -- connections -------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not recovery.is_corruption(exc):
                    raise
                self._start_afresh(str(exc))
        return self._conn  # type: ignore[return-value]

    def _open(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn = conn
            self._ensure_schema(conn)
        except BaseException:
            self._conn = None
            conn.close()
            raise

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION:
            return
        with self.transaction():
            if conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION:
                return  # another process created it while we waited for the write lock (its ALTERs ran once)
            for statement in schema.ALL_DDL:
                _run_ddl(conn, statement)
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")

    def _start_afresh(self, reason: str) -> None:
        """Set a damaged file aside, open a fresh one and leave a note that tasks and status pass on."""
        self.close()
        moved_to = recovery.set_aside(self.path)
        self._open()
        if moved_to is None:
            return  # another process set it aside a moment ago and left the note
        message = recovery.reset_message(moved_to, reason)
        log.error(message)
        self.set_json(schema.KV_STORE_RESET, {"at": time.time(), "moved_to": str(moved_to), "reason": reason,
                                              "message": message, "announced": False})

    def recover_if_damaged(self, exc: BaseException) -> bool:
        """After ``exc`` from an operation: if it says the file is damaged, start afresh; True when it did."""
        if not recovery.is_corruption(exc):
            return False
        self._start_afresh(str(exc))
        return True

    def verify_integrity(self) -> bool:
        """``PRAGMA quick_check`` (it reads the whole file, so the worker runs it once at start, never a hook);
        a damaged file is set aside. True when the file was sound."""
        try:
            verdict = self.conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if not self.recover_if_damaged(exc):
                raise
            return False
        if verdict == "ok":
            return True
        self._start_afresh(f"integrity check: {verdict}")
        return False

    def store_reset_to_announce(self) -> str | None:
        """The message about a damaged database that was set aside, once: the first caller gets it."""
        note = self.get_json(schema.KV_STORE_RESET)
        if not isinstance(note, dict) or note.get("announced"):
            return None
        self.set_json(schema.KV_STORE_RESET, {**note, "announced": True})
        return str(note.get("message"))

    @property
    def intake(self) -> Any:
        """persist-queue's ack queue in our database file (imported lazily: it costs ~50 ms)."""
        if self._intake is None:
            from persistqueue import SQLiteAckQueue
            from persistqueue.serializers import json as json_serializer

            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._intake = SQLiteAckQueue(
                str(self.data_dir),
                name=schema.INTAKE_NAME,
                db_file_name=schema.DB_FILE,
                serializer=json_serializer,
                auto_resume=False,  # only the lease holder may resume rows another process took
                multithreading=True,
                timeout=self.timeout,
            )
        return self._intake

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()
            self._intake = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: one writer at a time, all or nothing."""
        conn = self._conn if self._conn is not None else self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite already rolled back after a full disk or an I/O error: a second ROLLBACK would raise
            # "no transaction is active" and hide the real cause.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- intake (hooks append here) ----------------------------------------------------------

    def append_event(self, event: dict[str, Any]) -> None:
        """One committed insert in persist-queue's format (``schema.CREATE_INTAKE``), as ``put`` writes it."""
        self.conn.execute(f"INSERT INTO {schema.INTAKE_TABLE}(data, timestamp, status) VALUES(?, ?, ?)",
                          (json.dumps(event).encode("utf-8"), time.time(), schema.INTAKE_NEW))

    def intake_size(self) -> int:
        """Events not yet absorbed, counted in the database (persist-queue's ``size`` is a per-process
        counter that never sees other processes' puts, and hooks are other processes) and in the spool."""
        row = self.conn.execute(f"SELECT COUNT(*) FROM {schema.INTAKE_TABLE} WHERE status < ?",
                                (schema.INTAKE_TAKEN,)).fetchone()
        return int(row[0]) + spool.spool_count(self.data_dir)

    def absorb_intake(self, settle_seconds: float, limit: int = 2000) -> int:
        """Move intake events into coalesced scene/fan-out rows; returns how many events were absorbed.

        Rows are acked only after the transaction that applied them committed. A crash in between leaves
        them un-acked; the next lease holder resumes them and applying them again is harmless (coalescing).
        """
        from persistqueue.exceptions import Empty

        taken: list[dict[str, Any]] = []
        while len(taken) < limit:
            try:
                taken.append(self.intake.get(block=False, raw=True))
            except Empty:
                break
        spooled = spool.spooled_files(self.data_dir, limit)
        if not taken and not spooled:
            return 0
        with self.transaction():
            for raw in taken:
                self._apply_event(raw.get("data"), settle_seconds)
            for path in spooled:
                self._apply_event(spool.read_event(path), settle_seconds)
        for raw in taken:
            self.intake.ack(id=raw["pqid"])
        if taken:
            self.intake.clear_acked_data(max_delete=10_000, keep_latest=0, clear_ack_failed=True)
        spool.remove_files(self.data_dir, spooled)
        return len(taken) + len(spooled)

    def status_counts(self, live_token: str | None) -> dict[str, int]:
        """:meth:`counts`, plus the work that only un-absorbed hook events name (each object once):
        scenes as ``pending``, performer/studio/tag/group changes as ``fanout_pending``, and every
        un-absorbed row (ready, or taken by a worker and not applied yet) as ``intake``.

        Read in one snapshot: the worker absorbing events between two separate reads would make them
        vanish from both (taken off the intake, not yet committed to ``scenes``) and undercount.
        """
        conn = self.conn
        spooled = self._spooled_events()  # before the snapshot: a spool file is deleted after its commit
        conn.execute("BEGIN")  # deferred: a read snapshot, no write lock
        try:
            counts = self.counts(live_token)
            rows, events = self._unabsorbed_events()
            events += spooled
            queued = {int(object_id) for kind, object_id in events if kind == "scene"} - self.pending_scene_ids()
            markers = {(kind, object_id) for kind, object_id in events if kind in FANOUT_KINDS}
            markers -= self.fanout_keys()
            settled = self._settled_statuses(queued)
        finally:
            conn.execute("COMMIT")
        counts["pending"] += len(queued)
        counts["fanout_pending"] += len(markers)
        counts["intake"] = rows + len(spooled)
        for status in ("synced", "skipped"):  # a new edit makes a synced scene pending, not both
            counts[status] -= settled.count(status)
        return counts

    def has_work(self, live_token: str | None = None) -> bool:
        """The one answer to "is there work?": pending scenes (claims the live holder has not finished
        included), fan-out markers, and hook events nobody absorbed yet (destroys too: someone must apply
        them). False means a background worker would have nothing to do."""
        counts = self.status_counts(live_token)
        return counts["pending"] + counts["in_progress"] + counts["fanout_pending"] + counts["intake"] > 0

    def _settled_statuses(self, scene_ids: set[int]) -> list[str]:
        ordered, statuses = sorted(scene_ids), []
        for start in range(0, len(ordered), SQL_VARIABLES_PER_QUERY):  # older SQLite allows 999 variables
            chunk = ordered[start:start + SQL_VARIABLES_PER_QUERY]
            statuses += [row[0] for row in self.conn.execute(
                f"SELECT status FROM scenes WHERE scene_id IN ({','.join('?' * len(chunk))})", chunk)]
        return statuses

    def queued_scene_ids(self) -> set[int]:
        """Every scene with work waiting: pending rows and scenes named by hook events not absorbed yet
        (read only: the preview of Process Queue shows them without taking them off the intake)."""
        return self.pending_scene_ids() | self.unabsorbed_scene_ids()

    def _unabsorbed_events(self) -> tuple[int, list[tuple[str, str]]]:
        """How many intake rows are not acked yet (ready ones and ones a worker took but has not applied),
        and the (kind, id) each well-formed one names."""
        rows, events = 0, []
        for (data,) in self.conn.execute(f"SELECT data FROM {schema.INTAKE_TABLE} WHERE status < ?",
                                         (schema.INTAKE_ACKED,)):
            rows += 1
            try:
                events.append(json.loads(data))
            except (TypeError, ValueError):
                continue  # absorbing drops malformed events; they are no object's work
        return rows, _event_keys(events)

    def _spooled_events(self) -> list[tuple[str, str]]:
        return _event_keys([spool.read_event(path) for path in spool.spooled_files(self.data_dir)])

    def unabsorbed_scene_ids(self) -> set[int]:
        """Scenes that hook (or "Sync now") events name and no worker has absorbed yet, spooled ones included."""
        events = self._spooled_events() + self._unabsorbed_events()[1]
        return {int(object_id) for kind, object_id in events if kind == "scene"}

    def resume_intake(self) -> None:
        self.intake.resume_unack_tasks()

    def clear_intake(self) -> int:
        dropped = 0
        from persistqueue.exceptions import Empty

        while True:
            try:
                raw = self.intake.get(block=False, raw=True)
            except Empty:
                break
            self.intake.ack(id=raw["pqid"])
            dropped += 1
        self.intake.clear_acked_data(max_delete=1_000_000, keep_latest=0, clear_ack_failed=True)
        spooled = spool.spooled_files(self.data_dir)
        spool.remove_files(self.data_dir, spooled)
        return dropped + len(spooled)

    # -- key-value state (breaker, watermarks, stats, pauses, cached settings) ------------------

    def get_json(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def get_raw_values(self, *keys: str) -> dict[str, str]:
        """Several kv rows in one indexed read (the hook's whole read of state), values left as JSON text."""
        rows = self.conn.execute(f"SELECT key, value FROM kv WHERE key IN ({','.join('?' * len(keys))})", keys)
        return {row[0]: row[1] for row in rows}

    def set_json(self, key: str, value: Any) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, sort_keys=True)),
            )

    def delete_key(self, key: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))

    # -- worker lease ------------------------------------------------------------------------

    def lease_holder(self, now: float | None = None) -> sqlite3.Row | None:
        """The live lease row, or None when nobody holds it (expired, or its process is gone)."""
        now = time.time() if now is None else now
        row = self.conn.execute("SELECT * FROM lease WHERE name = 'worker'").fetchone()
        if row is None or not _lease_live(row, now):
            return None
        return row

    def acquire_lease(self, token: str, ttl: float, *, pid: int, wake_port: int | None = None) -> bool:
        """Take the lease if it is free or expired. Claims left by an earlier holder become pending again."""
        now = time.time()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM lease WHERE name = 'worker'").fetchone()
            if row is not None and row["token"] != token and _lease_live(row, now):
                return False
            conn.execute(
                "INSERT INTO lease(name, token, pid, acquired_at, expires_at, expires_mono, wake_port, handoff) "
                "VALUES('worker', ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(name) DO UPDATE SET token = excluded.token, "
                "pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at, "
                "expires_mono = excluded.expires_mono, "
                "wake_port = excluded.wake_port, "
                # A child adopting the lease its hook reserved keeps a hand-over request made meanwhile.
                "handoff = CASE WHEN lease.token = excluded.token THEN lease.handoff ELSE 0 END",
                (token, pid, now, *lease_expiries(ttl), wake_port),
            )
            conn.execute(
                "UPDATE scenes SET claim_token = NULL, claimed_generation = NULL "
                "WHERE claim_token IS NOT NULL AND claim_token != ?",
                (token,),
            )
        return True

    def set_lease_pid(self, token: str, pid: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE lease SET pid = ? WHERE name = 'worker' AND token = ?", (pid, token))

    def renew_lease(self, token: str, ttl: float) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute("UPDATE lease SET expires_at = ?, expires_mono = ? WHERE name = 'worker' AND token = ?",
                                  (*lease_expiries(ttl), token))
        return cursor.rowcount == 1

    def release_lease(self, token: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM lease WHERE name = 'worker' AND token = ?", (token,))
            conn.execute("UPDATE scenes SET claim_token = NULL, claimed_generation = NULL WHERE claim_token = ?", (token,))

    def request_handoff(self) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE lease SET handoff = 1 WHERE name = 'worker'")

    def handoff_requested(self, token: str) -> bool:
        row = self.conn.execute("SELECT handoff FROM lease WHERE name = 'worker' AND token = ?", (token,)).fetchone()
        return row is None or bool(row["handoff"])
