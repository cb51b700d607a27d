"""The rating ledger: per linked scene, the Plex star rating PlexSync last saw and agreed with, and the rating it
is putting into Stash right now (``ratings_from_plex``, see ``worker.viewing.ratings``).

Kept by the exactly-once rule (``sync_queue.ledgers.plays``); an open intent is settled when Stash already holds
its rating. Settling happens in the same transaction that makes the scene's push record agree, so the
Stash→Plex push that follows sees no rating change; the rewritten record drops the scene's fingerprint, so the
next sync compares Stash with the new record.

Tables are created here, lazily, when the importer opens the ledger (the core schema does not know them).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, NamedTuple

CREATE_PLEX_RATINGS = """
CREATE TABLE IF NOT EXISTS plex_ratings (
    scene_id          INTEGER PRIMARY KEY,
    rating_key        INTEGER NOT NULL,
    seen_rating       TEXT,
    intent_rating100  INTEGER,
    intent_rating     TEXT,
    intent_at         REAL,
    changed_at        REAL NOT NULL
)"""
# seen_rating: Plex's userRating as last agreed ('' = not rated; NULL = never seen). intent_*: the rating being
# put into Stash (intent_at NULL = none open); intent_rating is the Plex value it came from.

NOT_RATED = ""

RecordRewrite = Callable[[str], str]  # a scene's push record (JSON) → the same record agreeing with the rating


class RatingRow(NamedTuple):
    scene_id: int
    rating_key: int
    seen_rating: str | None
    intent_rating100: int | None
    intent_rating: str | None
    intent_at_s: float | None

    @property
    def open(self) -> bool:
        return self.intent_at_s is not None


class Settle(NamedTuple):
    """What a settled scene agrees on: Plex's rating (text, '' none) and the push record's rewrite (None: keep)."""

    scene_id: int
    rating_key: int
    seen_rating: str
    rewrite: RecordRewrite | None


class RatingLedger:
    """Operations on the rating table of a :class:`sync_queue.store.Store`, each one short transaction."""

    def __init__(self, store: Any) -> None:
        self.store = store
        store.conn.execute(CREATE_PLEX_RATINGS)  # IF NOT EXISTS: cheap, and safe when two processes race here

    def rows(self) -> dict[int, RatingRow]:
        return {row[0]: RatingRow(*row) for row in self.store.conn.execute(
            "SELECT scene_id, rating_key, seen_rating, intent_rating100, intent_rating, intent_at FROM plex_ratings")}

    def note_intents(self, intents: Iterable[tuple[int, int, int | None, str]]) -> None:
        """(scene, ratingKey, rating100 to write, Plex's rating it comes from), before Stash is asked."""
        now_s = time.time()
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO plex_ratings(scene_id, rating_key, intent_rating100, intent_rating, intent_at, changed_at) "
                "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(scene_id) DO UPDATE SET rating_key = excluded.rating_key, "
                "intent_rating100 = excluded.intent_rating100, intent_rating = excluded.intent_rating, "
                "intent_at = excluded.intent_at, changed_at = excluded.changed_at",
                [(scene_id, rating_key, rating100, rating, now_s, now_s) for scene_id, rating_key, rating100, rating in intents])

    def settle(self, settled: Iterable[Settle]) -> None:
        """Record what both sides now agree on, close any open intent, and make each push record agree, in one
        transaction (the worker may rewrite a push record at any time: it is read and written inside it)."""
        now_s = time.time()
        with self.store.transaction() as conn:
            for item in settled:
                conn.execute(
                    "INSERT INTO plex_ratings(scene_id, rating_key, seen_rating, changed_at) VALUES(?, ?, ?, ?) "
                    "ON CONFLICT(scene_id) DO UPDATE SET rating_key = excluded.rating_key, "
                    "seen_rating = excluded.seen_rating, intent_rating100 = NULL, intent_rating = NULL, "
                    "intent_at = NULL, changed_at = excluded.changed_at",
                    (item.scene_id, item.rating_key, item.seen_rating, now_s))
                if item.rewrite is None:
                    continue
                row = conn.execute("SELECT push_record FROM scenes WHERE scene_id = ? AND rating_key = ?",
                                   (item.scene_id, item.rating_key)).fetchone()
                rewritten = item.rewrite(row[0]) if row is not None and row[0] else None
                if rewritten is not None and rewritten != row[0]:
                    # The fingerprint vouched for the old record: without it the next sync diffs against the new
                    # one (no request when nothing differs) instead of skipping a scene whose Stash state it knew.
                    conn.execute("UPDATE scenes SET push_record = ?, fingerprint = NULL WHERE scene_id = ?",
                                 (rewritten, item.scene_id))

    def drop_intents(self, scene_ids: Iterable[int]) -> None:
        """Intents Stash never took (or that Stash's own later edit overtook): forgotten, the last agreed rating
        kept; the scene is judged afresh."""
        with self.store.transaction() as conn:
            conn.executemany("UPDATE plex_ratings SET intent_rating100 = NULL, intent_rating = NULL, intent_at = NULL "
                             "WHERE scene_id = ?", [(scene_id,) for scene_id in scene_ids])

    def forget(self, scene_ids: Iterable[int]) -> None:
        """Scenes Stash no longer has."""
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM plex_ratings WHERE scene_id = ?", [(scene_id,) for scene_id in scene_ids])

    def counts(self) -> dict[str, int]:
        row = self.store.conn.execute("SELECT COUNT(*), SUM(intent_at IS NOT NULL) FROM plex_ratings").fetchone()
        return {"known": int(row[0] or 0), "open": int(row[1] or 0)}
