"""The Plex path index in the store (the matcher's ``IndexLookup``): one row per listed media part, keyed by
its mapped path and its folded file name; mixed into :class:`sync_queue.store.Store`."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Iterable

from validation.index_record import IndexedPart


class PlexIndexMixin:
    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by Store
        raise NotImplementedError

    def replace_index_items(self, section_id: int, rows: Iterable[tuple[Any, ...]]) -> int:
        """rows: (rating_key, path_key, basename_key, file, size, added_at, updated_at), already listed.

        The listed items' rows replace what the index had for them (a moved file leaves no stale path
        behind); items not listed keep theirs. One short transaction per call: callers write a listing in
        chunks, never holding the write lock while a request is in flight (hooks and the heartbeat write too).
        """
        rows = list(rows)
        with self.transaction() as conn:
            conn.executemany("DELETE FROM plex_index WHERE section_id = ? AND rating_key = ?",
                             sorted({(section_id, row[0]) for row in rows}))
            cursor = conn.executemany(
                "INSERT OR REPLACE INTO plex_index(section_id, rating_key, path_key, basename_key, file, size, "
                "added_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                [(section_id, *row) for row in rows],
            )
        return cursor.rowcount

    def prune_index_section(self, section_id: int, listed: set[tuple[int, str]]) -> int:
        """After a full listing: drop the section's rows it did not list, given as (rating_key, path_key)."""
        stale = [(section_id, rating_key, path) for rating_key, path in self.conn.execute(
            "SELECT rating_key, path_key FROM plex_index WHERE section_id = ?", (section_id,))
            if (rating_key, path) not in listed]
        with self.transaction() as conn:
            conn.executemany("DELETE FROM plex_index WHERE section_id = ? AND rating_key = ? AND path_key = ?", stale)
        return len(stale)

    def drop_index_item(self, rating_key: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM plex_index WHERE rating_key = ?", (rating_key,))

    def index_size(self, section_id: int | None = None) -> int:
        if section_id is None:
            return self.conn.execute("SELECT COUNT(*) FROM plex_index").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM plex_index WHERE section_id = ?", (section_id,)).fetchone()[0]

    def index_max_added_at(self, section_id: int, *, not_after: int | None = None) -> int:
        row = self.conn.execute("SELECT MAX(added_at) FROM plex_index WHERE section_id = ? AND added_at <= ?",
                                (section_id, not_after if not_after is not None else 2**62)).fetchone()
        return int(row[0] or 0)

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
