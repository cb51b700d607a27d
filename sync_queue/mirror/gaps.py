"""What the gap report reads from the store (``worker.tasks.gaps``): the Plex path index of the synced libraries, each
scene's link and state, and a small cache of Plex titles (the index keeps files, not titles).

Read-only queries on the store's tables, plus the ``plex_titles`` table created here, lazily. The newest report
is kept in the kv table for PlexSync's page, which must answer from the store alone.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

CREATE_PLEX_TITLES = """
CREATE TABLE IF NOT EXISTS plex_titles (
    rating_key  INTEGER PRIMARY KEY,
    updated_at  INTEGER NOT NULL,
    title       TEXT    NOT NULL
)"""
# updated_at: the item's Plex updatedAt when its title was read (a retitled item has a newer one).
KV_LAST_GAPS = "last_gaps"  # the newest gap report, for PlexSync's page
IDS_PER_SELECT = 500


class IndexedFile(NamedTuple):
    section_id: int
    rating_key: int
    path_key: str
    file: str
    updated_stamp: int  # Plex's updatedAt


class SceneRow(NamedTuple):
    scene_id: int
    rating_key: int | None
    pending: bool
    lane: str
    status: str
    error_class: str | None
    error: str | None


class GapQueries:
    def __init__(self, store: Any) -> None:
        self.store = store
        store.conn.execute(CREATE_PLEX_TITLES)  # IF NOT EXISTS: cheap, and safe when two processes race here

    def listed_items(self, section_ids: Iterable[int]) -> dict[int, int]:
        """ratingKey → library of every item the index holds for these libraries."""
        ids = sorted({int(section_id) for section_id in section_ids})
        return {row[0]: row[1] for row in self.store.conn.execute(
            f"SELECT DISTINCT rating_key, section_id FROM plex_index WHERE section_id IN ({','.join('?' * len(ids))})",
            ids)} if ids else {}

    def scene_links(self) -> dict[int, int | None]:
        """Scene → the Plex item it is linked to (None: no link), for every scene PlexSync knows."""
        return dict(self.store.conn.execute("SELECT scene_id, rating_key FROM scenes").fetchall())

    def files_of(self, rating_keys: Iterable[int], section_ids: Iterable[int]) -> list[IndexedFile]:
        """The indexed media parts of these items (in these libraries)."""
        keys, sections = sorted(set(rating_keys)), {int(section_id) for section_id in section_ids}
        found = []
        for start in range(0, len(keys), IDS_PER_SELECT):
            chunk = keys[start:start + IDS_PER_SELECT]
            found += [IndexedFile(*row) for row in self.store.conn.execute(
                "SELECT section_id, rating_key, path_key, file, updated_at FROM plex_index WHERE rating_key IN "
                f"({','.join('?' * len(chunk))}) ORDER BY rating_key, path_key", chunk) if row[0] in sections]
        return found

    def is_indexed(self, path_key: str, section_ids: Iterable[int]) -> bool:
        """Does the index list this file (in these libraries)?"""
        sections = {int(section_id) for section_id in section_ids}
        return any(part.section_id in sections for part in self.store.parts_by_path_key(path_key))

    def scene_row(self, scene_id: int) -> SceneRow | None:
        """One scene's link and, without one, why (its state and last error)."""
        row = self.store.conn.execute(
            "SELECT scene_id, rating_key, generation > done_generation, lane, status, last_error_class, last_error "
            "FROM scenes WHERE scene_id = ?", (scene_id,)).fetchone()
        return None if row is None else SceneRow(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6])

    def dead_letter_reasons(self) -> dict[int, str]:
        return {row[0]: f"{row[1]}: {row[2]}" for row in self.store.conn.execute(
            "SELECT scene_id, error_class, message FROM dead_letters")}

    def cached_titles(self, items: Iterable[tuple[int, int]]) -> dict[int, str]:
        """Titles read before of these (ratingKey, updatedAt) items, when the item has not changed since."""
        wanted = dict(items)
        keys = sorted(wanted)
        found: dict[int, str] = {}
        for start in range(0, len(keys), IDS_PER_SELECT):
            chunk = keys[start:start + IDS_PER_SELECT]
            for rating_key, updated_stamp, title in self.store.conn.execute(
                    f"SELECT rating_key, updated_at, title FROM plex_titles WHERE rating_key IN "
                    f"({','.join('?' * len(chunk))})", chunk):
                if updated_stamp >= wanted[rating_key]:
                    found[rating_key] = title
        return found

    def remember_titles(self, titles: Iterable[tuple[int, int, str]]) -> None:
        """(ratingKey, updatedAt, title) just read from Plex."""
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO plex_titles(rating_key, updated_at, title) VALUES(?, ?, ?)",
                             list(titles))

    def forget_titles_except(self, rating_keys: set[int]) -> None:
        """Drop cached titles of items no longer Plex-only (the cache stays the size of the gap list)."""
        stale = [(row[0],) for row in self.store.conn.execute("SELECT rating_key FROM plex_titles")
                 if row[0] not in rating_keys]
        if stale:
            with self.store.transaction() as conn:
                conn.executemany("DELETE FROM plex_titles WHERE rating_key = ?", stale)
