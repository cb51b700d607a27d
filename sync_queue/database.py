"""The store's core, all a hook uses: one SQLite file in WAL mode, its schema, transactions, key-value state,
the worker lease and the hook's intake insert.

The user's save waits for the hook, which pays for every module it imports, so this imports only the standard
library and small ``sync_queue`` modules; recovery and logging load only when a damaged file must be set aside.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

from sync_queue import schema
from sync_queue.clock import lease_expiries, lease_unexpired
from sync_queue.intake.processes import pid_alive

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

BUSY_TIMEOUT_S = 30.0


def _is_corruption(exc: BaseException) -> bool:
    from sync_queue import recovery  # here: only a failed open or operation needs it

    return recovery.is_corruption(exc)


def _make_folder(folder: str) -> None:
    """``Path(folder).mkdir(parents=True, exist_ok=True)``, whose error names ``folder`` itself (os.makedirs'
    would name the first parent it could not make)."""
    if os.path.isdir(folder):
        return
    try:
        os.mkdir(folder)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        if not os.path.isdir(folder):
            raise


def _run_ddl(conn: sqlite3.Connection, statement: str) -> None:
    """Every statement may run again on a file an older version made: a column added before is no error."""
    try:
        conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if not (statement.startswith("ALTER TABLE") and "duplicate column" in str(exc)):
            raise


def _lease_live(row: sqlite3.Row, now_s: float) -> bool:
    return lease_unexpired(row, now_s) and pid_alive(row["pid"])


class Transaction:
    """``with db.transaction() as conn``: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception; inside an open
    transaction it joins it. A class, not ``contextlib.contextmanager``: the hook would import contextlib."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.outermost = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.outermost = True
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if not self.outermost:
            return
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except BaseException:
                self._roll_back()
                raise
        self._roll_back()

    def _roll_back(self) -> None:
        # SQLite already rolled back after a full disk or an I/O error: a second ROLLBACK would raise
        # "no transaction is active" and hide the real cause.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class Database:
    """Connection, schema, transactions, key-value state, the worker lease and the intake insert.

    ``timeout_s``: how long one statement waits for SQLite's lock. ``deadline_mono_s`` (a ``time.monotonic()``
    time): all waits together end then, each getting what is left (a hook's owner write, intake insert and
    lease share one 2 s, since the user's save waits for all of them)."""

    def __init__(self, data_dir: str | os.PathLike[str], *, timeout_s: float = BUSY_TIMEOUT_S,
                 deadline_mono_s: float | None = None) -> None:
        self._dir = os.fspath(data_dir)  # as text: pathlib's import is a cost the hook's usual path avoids
        self._file = os.path.join(self._dir, schema.DB_FILE)
        self.timeout_s = timeout_s
        self.deadline_mono_s = deadline_mono_s
        self._conn: sqlite3.Connection | None = None

    @property
    def data_dir(self) -> Path:
        from pathlib import Path

        return Path(self._dir)

    @property
    def path(self) -> Path:
        """The database file."""
        from pathlib import Path

        return Path(self._file)

    # -- connections -------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                self._start_afresh(str(exc))
        return self._conn  # type: ignore[return-value]

    def _wait_s(self) -> float:
        """How long the next statement may wait for the lock: ``timeout_s``, or what is left before the deadline."""
        if self.deadline_mono_s is None:
            return self.timeout_s
        return max(0.0, min(self.timeout_s, self.deadline_mono_s - time.monotonic()))

    def _arm(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """The connection, its busy timeout cut to what is left before the deadline (if there is one)."""
        if self.deadline_mono_s is not None:
            conn.execute(f"PRAGMA busy_timeout = {int(self._wait_s() * 1000)}")
        return conn

    def _open(self) -> None:
        _make_folder(self._dir)
        conn = sqlite3.connect(self._file, timeout=self._wait_s(), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._wait_s() * 1000)}")
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
        from sync_queue import recovery
        from validation.stash_wire import WireLog

        self.close()
        moved_to = recovery.set_aside(self.path)
        self._open()
        if moved_to is None:
            return  # another process set it aside a moment ago and left the note
        message = recovery.reset_message(moved_to, reason)
        WireLog("store").error(message)
        self.set_json(schema.KV_STORE_RESET, {"at": time.time(), "moved_to": str(moved_to), "reason": reason,
                                              "message": message, "announced": False})

    def recover_if_damaged(self, exc: BaseException) -> bool:
        """After ``exc`` from an operation: if it says the file is damaged, start afresh; True when it did."""
        if not _is_corruption(exc):
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

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> Transaction:
        """BEGIN IMMEDIATE … COMMIT: one writer at a time, all or nothing.

        **The short-transaction rule.** No write transaction is held across network I/O (a request to Plex or
        Stash): SQLite has one writer, and a hook waiting behind it stalls the user's save. Read from the
        network first, then write what it said in one short transaction."""
        return Transaction(self._arm(self._conn if self._conn is not None else self.conn))

    # -- intake (hooks append here)----------------------------------------------------------

    def append_event(self, event: dict[str, Any]) -> None:
        """One committed insert in persist-queue's format (``schema.CREATE_INTAKE``), as ``put`` writes it."""
        self._arm(self.conn).execute(f"INSERT INTO {schema.INTAKE_TABLE}(data, timestamp, status) VALUES(?, ?, ?)",
                                     (json.dumps(event).encode("utf-8"), time.time(), schema.INTAKE_NEW))

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

    def lease_holder(self, now_s: float | None = None) -> sqlite3.Row | None:
        """The live lease row, or None when nobody holds it (expired, or its process is gone)."""
        now_s = time.time() if now_s is None else now_s
        row = self.conn.execute("SELECT * FROM lease WHERE name = 'worker'").fetchone()
        if row is None or not _lease_live(row, now_s):
            return None
        return row

    def acquire_lease(self, token: str, ttl_s: float, *, pid: int, wake_port: int | None = None) -> bool:
        """Take the lease if it is free or expired; claims left by an earlier holder become pending again (the
        one-worker rule, ``worker.process.lease``)."""
        now_s = time.time()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM lease WHERE name = 'worker'").fetchone()
            if row is not None and row["token"] != token and _lease_live(row, now_s):
                return False
            conn.execute(
                "INSERT INTO lease(name, token, pid, acquired_at, expires_at, expires_mono, wake_port, handoff) "
                "VALUES('worker', ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(name) DO UPDATE SET token = excluded.token, "
                "pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at, "
                "expires_mono = excluded.expires_mono, "
                "wake_port = excluded.wake_port, "
                # A child adopting the lease its hook reserved keeps a hand-over request made meanwhile.
                "handoff = CASE WHEN lease.token = excluded.token THEN lease.handoff ELSE 0 END",
                (token, pid, now_s, *lease_expiries(ttl_s), wake_port),
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

    def renew_lease(self, token: str, ttl_s: float) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute("UPDATE lease SET expires_at = ?, expires_mono = ? WHERE name = 'worker' AND token = ?",
                                  (*lease_expiries(ttl_s), token))
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
