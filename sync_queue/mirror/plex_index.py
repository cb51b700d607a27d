"""The Plex path index in the store (the matcher's ``IndexLookup``): one row per listed media part, keyed by
its mapped path and its folded file name; mixed into :class:`sync_queue.store.Store`.

Beside it, the scenes waiting for the index: a scene skipped or left waiting because no Plex item (or more than
one) had its file names its path and file name here, and any row added or removed for either queues it again.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from typing import Any, Iterable, Sequence

from validation.index_record import IndexedPart

CREATE_INDEX_WAITS = """
CREATE TABLE IF NOT EXISTS plex_index_waits (
    key       TEXT    NOT NULL,
    scene_id  INTEGER NOT NULL,
    PRIMARY KEY (key, scene_id)
)"""
CREATE_INDEX_WAITS_SCENE = "CREATE INDEX IF NOT EXISTS ix_plex_index_waits_scene ON plex_index_waits(scene_id)"
INDEX_WAITS_DDL = (CREATE_INDEX_WAITS, CREATE_INDEX_WAITS_SCENE)
KEYS_PER_SELECT = 500  # bound parameters per ``IN (…)``: well under SQLite's limit on every build


def wait_keys(path_keys: Iterable[str], basename_keys: Iterable[str]) -> set[str]:
    """The keys a scene waits on: its mapped paths and its folded file names, kept apart."""
    return {f"path:{key}" for key in path_keys} | {f"name:{key}" for key in basename_keys}


def _in_chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), KEYS_PER_SELECT):
        yield values[start:start + KEYS_PER_SELECT]


class PlexIndexMixin:
    conn: sqlite3.Connection
    _waits_on: sqlite3.Connection | None = None  # the connection the waits table is known to exist on

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by Store
        raise NotImplementedError

    def _bump_scenes(self, scene_ids: Iterable[int], not_before_s: float, *,
                     scheduled_at_s: float | None = None) -> int:  # provided by SceneStateMixin
        raise NotImplementedError

    def replace_index_items(self, section_id: int, items: Sequence[tuple[int, Sequence[tuple[Any, ...]]]]
                            ) -> tuple[int, int]:
        """``items``: (rating_key, rows) per listed item, rows (rating_key, path_key, basename_key, file, size,
        added_at, updated_at) for every media part it has now (none is possible). Returns (rows written, rows
        removed: an earlier state's paths, and other items' rows at these paths).

        Each item's rows replace what the index had for it whole (a moved file leaves no stale path behind), and
        a path listed for it leaves every other item of the library (Plex keeps one item per file and library,
        so the other is a deleted item whose file came back under a new ratingKey). Items not listed keep
        theirs. One short transaction per call: callers write a listing in chunks, never holding the write lock
        while a request is in flight (hooks and the heartbeat write too)."""
        keys = sorted({int(rating_key) for rating_key, _ in items})
        new = {(row[0], row[1], row[2]) for _, rows in items for row in rows}
        paths = sorted({row[1] for _, rows in items for row in rows})
        self.waits_table()
        with self.transaction() as conn:
            before = set()
            for chunk in _in_chunks(keys):
                before |= set(conn.execute(
                    "SELECT rating_key, path_key, basename_key FROM plex_index WHERE section_id = ? AND rating_key "
                    f"IN ({','.join('?' * len(chunk))})", (section_id, *chunk)).fetchall())
            for chunk in _in_chunks(paths):
                before |= set(conn.execute(
                    "SELECT rating_key, path_key, basename_key FROM plex_index WHERE section_id = ? AND path_key "
                    f"IN ({','.join('?' * len(chunk))})", (section_id, *chunk)).fetchall())
            before = {(int(rating_key), path, name) for rating_key, path, name in before}
            conn.executemany("DELETE FROM plex_index WHERE section_id = ? AND rating_key = ? AND path_key = ?",
                             [(section_id, rating_key, path) for rating_key, path, _ in before - new])
            cursor = conn.executemany(
                "INSERT OR REPLACE INTO plex_index(section_id, rating_key, path_key, basename_key, file, size, "
                "added_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                [(section_id, *row) for _, rows in items for row in rows],
            )
            self._index_changed(conn, before ^ new)
        return cursor.rowcount, len(before - new)

    def prune_index_section(self, section_id: int, listed: set[int]) -> int:
        """After a full listing: drop the rows of the section's items it did not list (deleted in Plex)."""
        stale = [(int(row[0]), row[1], row[2]) for row in self.conn.execute(
            "SELECT rating_key, path_key, basename_key FROM plex_index WHERE section_id = ?", (section_id,))
            if int(row[0]) not in listed]
        self.waits_table()
        with self.transaction() as conn:
            conn.executemany("DELETE FROM plex_index WHERE section_id = ? AND rating_key = ? AND path_key = ?",
                             [(section_id, rating_key, path) for rating_key, path, _ in stale])
            self._index_changed(conn, set(stale))
        return len(stale)

    def waits_table(self) -> sqlite3.Connection:
        """The connection, with the waits table created on first use (only workers use it, never a hook)."""
        conn = self.conn
        if self._waits_on is not conn:
            for statement in INDEX_WAITS_DDL:  # IF NOT EXISTS: cheap, and safe when two processes race here
                conn.execute(statement)
            self._waits_on = conn
        return conn

    def _index_changed(self, conn: sqlite3.Connection, rows: set[tuple[int, str, str]]) -> None:
        """Rows (rating_key, path_key, basename_key) were added or removed: the scenes waiting for those paths or
        file names are queued again, inside the caller's transaction (which made sure the waits table exists)."""
        keys = sorted(wait_keys((row[1] for row in rows), (row[2] for row in rows)))
        waiting: set[int] = set()
        for chunk in _in_chunks(keys):
            waiting |= {row[0] for row in conn.execute(
                f"SELECT scene_id FROM plex_index_waits WHERE key IN ({','.join('?' * len(chunk))})", chunk)}
        if waiting:
            conn.executemany("DELETE FROM plex_index_waits WHERE scene_id = ?", [(s,) for s in sorted(waiting)])
            self._bump_scenes(sorted(waiting), time.time())

    def wait_for_index(self, scene_id: int, path_keys: Iterable[str], basename_keys: Iterable[str]) -> None:
        """The scene did not reach Plex because the index had none (or several) of its files: queue it again
        when a row for one of its paths or file names is added or removed. Replaces its earlier waits."""
        self.waits_table()
        with self.transaction() as conn:
            conn.execute("DELETE FROM plex_index_waits WHERE scene_id = ?", (int(scene_id),))
            conn.executemany("INSERT OR IGNORE INTO plex_index_waits(key, scene_id) VALUES(?, ?)",
                             [(key, int(scene_id)) for key in sorted(wait_keys(path_keys, basename_keys))])

    def index_waits(self) -> dict[int, set[str]]:
        """Scene → the keys it waits on (for status and tests)."""
        waits: dict[int, set[str]] = {}
        for key, scene_id in self.waits_table().execute("SELECT key, scene_id FROM plex_index_waits"):
            waits.setdefault(int(scene_id), set()).add(key)
        return waits

    def drop_index_item(self, rating_key: int) -> None:
        self.waits_table()
        with self.transaction() as conn:
            rows = {(int(row[0]), row[1], row[2]) for row in conn.execute(
                "SELECT rating_key, path_key, basename_key FROM plex_index WHERE rating_key = ?", (rating_key,))}
            conn.execute("DELETE FROM plex_index WHERE rating_key = ?", (rating_key,))
            self._index_changed(conn, rows)

    def index_size(self, section_id: int | None = None) -> int:
        if section_id is None:
            return self.conn.execute("SELECT COUNT(*) FROM plex_index").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM plex_index WHERE section_id = ?", (section_id,)).fetchone()[0]

    def parts_by_path_key(self, key: str) -> list[IndexedPart]:
        return self._index_rows("path_key", key)

    def parts_by_basename_key(self, key: str) -> list[IndexedPart]:
        return self._index_rows("basename_key", key)

    def _index_rows(self, column: str, key: str) -> list[IndexedPart]:
        rows = self.conn.execute(
            f"SELECT rating_key, section_id, file, size, added_at, updated_at FROM plex_index WHERE {column} = ?",
            (key,),
        ).fetchall()
        return [IndexedPart(*row) for row in rows]
