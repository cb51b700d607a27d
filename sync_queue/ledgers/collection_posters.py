"""The poster PlexSync last gave each collection it owns, and the last upload Plex refused, per library and
collection title (ignoring case, as Plex matches collection names: ``plex.metadata_fields``).

An unchanged image costs no request, a URL that moved on with the same bytes one download and no upload, and a
refused upload (a server without the route: 404; a proxy's body limit: 413) is tried again at most once a day.
No intent is kept, unlike under the exactly-once rule (``sync_queue.ledgers.plays``): an upload repeated after a
crash shows the same poster.

The tables are created here, lazily, not by the core schema: the core schema's text fills SQLite's first page,
which the store's damage handling relies on (a damaged file must open and be found by the integrity check).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

CREATE_COLLECTION_POSTERS = (
    "CREATE TABLE IF NOT EXISTS collection_posters (section_id INTEGER NOT NULL, title_key TEXT NOT NULL, "
    "title TEXT NOT NULL, source_url TEXT NOT NULL, digest TEXT NOT NULL, rating_key INTEGER, "
    "uploaded_at REAL NOT NULL, PRIMARY KEY (section_id, title_key))"
)


CREATE_POSTER_FAILURES = (
    "CREATE TABLE IF NOT EXISTS collection_poster_failures (section_id INTEGER NOT NULL, title_key TEXT NOT NULL, "
    "source_url TEXT NOT NULL, failed_at REAL NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (section_id, title_key))"
)


class PosterState(NamedTuple):
    source_url: str
    digest: str


def title_key(title: str) -> str:
    return title.casefold()


class FailedUpload(NamedTuple):
    source_url: str
    failed_at_s: float  # time.time() seconds


def ensure_table(store: Any) -> None:
    store.conn.execute(CREATE_COLLECTION_POSTERS)
    store.conn.execute(CREATE_POSTER_FAILURES)


def poster_state(store: Any, section_id: int, title: str) -> PosterState | None:
    row = store.conn.execute("SELECT source_url, digest FROM collection_posters WHERE section_id = ? AND "
                             "title_key = ?", (int(section_id), title_key(title))).fetchone()
    return PosterState(row[0], row[1]) if row is not None else None


def record_poster(store: Any, section_id: int, title: str, source_url: str, digest: str,
                  rating_key: int | None) -> None:
    """What the collection shows now: ``digest`` of the bytes at ``source_url`` (uploaded, or already there)."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO collection_posters(section_id, title_key, title, source_url, digest, rating_key, "
                     "uploaded_at) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(section_id, title_key) DO UPDATE SET "
                     "title = excluded.title, source_url = excluded.source_url, digest = excluded.digest, "
                     "rating_key = excluded.rating_key, uploaded_at = excluded.uploaded_at",
                     (int(section_id), title_key(title), title, source_url, digest, rating_key, time.time()))
        conn.execute("DELETE FROM collection_poster_failures WHERE section_id = ? AND title_key = ?",
                     (int(section_id), title_key(title)))


def failed_upload(store: Any, section_id: int, title: str) -> FailedUpload | None:
    row = store.conn.execute("SELECT source_url, failed_at FROM collection_poster_failures WHERE section_id = ? "
                             "AND title_key = ?", (int(section_id), title_key(title))).fetchone()
    return FailedUpload(row[0], float(row[1])) if row is not None else None


def record_failed_upload(store: Any, section_id: int, title: str, source_url: str, reason: str,
                         failed_at_s: float) -> None:
    """Plex refused the poster from ``source_url`` for this collection at ``failed_at_s``."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO collection_poster_failures(section_id, title_key, source_url, failed_at, reason) "
                     "VALUES(?, ?, ?, ?, ?) ON CONFLICT(section_id, title_key) DO UPDATE SET "
                     "source_url = excluded.source_url, failed_at = excluded.failed_at, reason = excluded.reason",
                     (int(section_id), title_key(title), source_url, float(failed_at_s), reason[:500]))
