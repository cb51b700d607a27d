"""Per-scene sync state, fan-out markers, dead letters and the Plex path index (the Store's tables)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, NamedTuple

from sync_queue import stats
from sync_queue.clock import lease_unexpired
from sync_queue.schema import DUE, PENDING

FANOUT_KINDS = ("performer", "studio", "tag", "group")
IDS_PER_SELECT = 500  # bound parameters per ``IN (…)``: well under SQLite's limit on every build


class Claim(NamedTuple):  # a NamedTuple, not a dataclass: hooks import this module and pay for every import
    """A scene the worker took for one attempt, with what it needs to sync it without another read."""

    scene_id: int
    generation: int
    attempts: int
    lane: str
    rating_key: int | None
    section_id: int | None
    push_record: str | None
    fingerprint: str | None


class SceneStateMixin:
    """Scene, fan-out, dead-letter and index operations; mixed into :class:`sync_queue.store.Store`."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by Store
        raise NotImplementedError
    waits_table: Callable[[], sqlite3.Connection]  # provided by PlexIndexMixin

    # -- intake events → rows ----------------------------------------------------------------

    def _apply_event(self, event: Any, settle_s: float) -> None:
        if not isinstance(event, dict):
            return
        kind, object_id = event.get("kind"), str(event.get("id", ""))
        at_s = event.get("at")
        at_s = float(at_s) if isinstance(at_s, (int, float)) and not isinstance(at_s, bool) else time.time()
        if kind == "scene" and object_id.isdigit():
            self._bump_scenes([int(object_id)], at_s + settle_s, scheduled_at_s=at_s)
        elif kind == "destroy" and object_id.isdigit():
            self.conn.execute("DELETE FROM scenes WHERE scene_id = ?", (int(object_id),))
            self.conn.execute("DELETE FROM dead_letters WHERE scene_id = ?", (int(object_id),))
            self.conn.execute("DELETE FROM plex_index_waits WHERE scene_id = ?", (int(object_id),))
        elif kind in FANOUT_KINDS and object_id:
            self.conn.execute(
                "INSERT INTO fanout(kind, object_id, not_before, scheduled_at) VALUES(?, ?, ?, ?) "
                "ON CONFLICT(kind, object_id) DO UPDATE SET not_before = excluded.not_before, "
                "scheduled_at = excluded.scheduled_at, attempts = 0",
                (kind, object_id, at_s + settle_s, at_s),
            )

    def _bump_scenes(self, scene_ids: Iterable[int], not_before_s: float, *, scheduled_at_s: float | None = None) -> int:
        now_s = time.time()
        scheduled_at_s = now_s if scheduled_at_s is None else scheduled_at_s
        rows = [(scene_id, not_before_s, scheduled_at_s, now_s) for scene_id in scene_ids]
        self.conn.executemany(
            "INSERT INTO scenes(scene_id, generation, not_before, scheduled_at, queued_at) VALUES(?, 1, ?, ?, ?) "
            "ON CONFLICT(scene_id) DO UPDATE SET generation = generation + 1, not_before = excluded.not_before, "
            "scheduled_at = excluded.scheduled_at, "
            "attempts = 0, lane = 'normal', queued_at = COALESCE(queued_at, excluded.queued_at)",
            rows,
        )
        return len(rows)

    def queue_scenes(self, scene_ids: Iterable[int], *, delay_s: float = 0.0) -> int:
        """Mark scenes as needing a sync (tasks, fan-out, reconcile). Coalesces with pending work."""
        with self.transaction():
            return self._bump_scenes(scene_ids, time.time() + delay_s)

    # -- claiming and outcomes ---------------------------------------------------------------

    def claim_batch(self, token: str, limit: int, *, now_s: float | None = None) -> list[Claim]:
        now_s = time.time() if now_s is None else now_s
        with self.transaction() as conn:
            holder = conn.execute("SELECT * FROM lease WHERE name = 'worker' AND token = ?", (token,)).fetchone()
            if holder is None or not lease_unexpired(holder, time.time()):
                return []  # our lease expired (a laptop slept): the new holder owns the queue now
            rows = conn.execute(
                f"SELECT * FROM scenes WHERE {PENDING} AND claim_token IS NULL AND {DUE} "
                "ORDER BY not_before, scene_id LIMIT :limit",
                {"now": now_s, "limit": limit},
            ).fetchall()
            conn.executemany(
                "UPDATE scenes SET claim_token = ?, claimed_generation = generation WHERE scene_id = ?",
                [(token, row["scene_id"]) for row in rows],
            )
        return [
            Claim(
                scene_id=row["scene_id"],
                generation=row["generation"],
                attempts=row["attempts"],
                lane=row["lane"],
                rating_key=row["rating_key"],
                section_id=row["section_id"],
                push_record=row["push_record"],
                fingerprint=row["fingerprint"],
            )
            for row in rows
        ]

    def mark_synced(
        self,
        token: str,
        scene_id: int,
        *,
        rating_key: int,
        section_id: int,
        match_method: str | None,
        push_record: str,
        fingerprint: str | None,
        stash_updated_at: str | None,
        note: str | None = None,
        outcome: str = "synced",
    ) -> bool:
        """``match_method``: how the link was made (path / basename_size) when this sync made it; None keeps
        the stored one (a sync over a known link, or an unchanged one, says nothing about the match).
        ``note``: what Plex did not get (a cover left out), shown by ``needing_attention``. ``outcome``:
        ``synced``, or ``unchanged`` when nothing needed writing (counted in ``sync_queue.stats``)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE scenes SET done_generation = claimed_generation, claim_token = NULL, "
                "claimed_generation = NULL, status = 'synced', attempts = 0, lane = 'normal', "
                "last_error_class = ?, last_error = ?, rating_key = ?, section_id = ?, "
                "match_method = COALESCE(?, match_method), "
                "push_record = ?, fingerprint = ?, stash_updated_at = ?, synced_at = ? "
                "WHERE scene_id = ? AND claim_token = ?",
                ("LeftOut" if note else None, note[:2000] if note else None, rating_key, section_id, match_method,
                 push_record, fingerprint, stash_updated_at, time.time(), scene_id, token),
            )
            if cursor.rowcount:
                conn.execute("DELETE FROM dead_letters WHERE scene_id = ?", (scene_id,))
                stats.count(conn, token, stats.synced_names(outcome, match_method))
        return cursor.rowcount == 1

    def mark_retry(self, token: str, scene_id: int, *, delay_s: float, error_class: str, message: str,
                   lane: str = "normal", count_attempt: bool = True) -> bool:
        """Back off: the work stays pending and is read again once ``delay_s`` has passed."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE scenes SET claim_token = NULL, claimed_generation = NULL, not_before = ?, scheduled_at = ?, "
                "attempts = attempts + ?, lane = ?, status = 'retrying', last_error_class = ?, last_error = ? "
                "WHERE scene_id = ? AND claim_token = ?",
                (time.time() + delay_s, time.time(), 1 if count_attempt else 0, lane, error_class, message[:2000], scene_id, token),
            )
            if cursor.rowcount:
                stats.count(conn, token, stats.retry_names(error_class))
        return cursor.rowcount == 1

    def mark_skipped(self, token: str, scene_id: int, *, reason: str, error_class: str = "Skipped") -> bool:
        """Final for this generation, not an error: a new edit queues the scene again."""
        with self.transaction() as conn:
            finished = self._finish_claim(token, scene_id, "skipped", error_class, reason)
            if finished:
                stats.count(conn, token, stats.skipped_names(error_class))
        return finished

    def mark_dead(self, token: str, scene_id: int, *, error_class: str, message: str) -> bool:
        """Final for this generation and a dead letter (Retry Failed Jobs queues it again)."""
        now_s = time.time()
        with self.transaction() as conn:
            finished = self._finish_claim(token, scene_id, "dead", error_class, message, count_attempt=True)
            if finished:
                conn.execute(
                    "INSERT INTO dead_letters(scene_id, error_class, message, attempts, first_failed_at, "
                    "last_failed_at) SELECT scene_id, ?, ?, attempts, ?, ? FROM scenes WHERE scene_id = ? "
                    "ON CONFLICT(scene_id) DO UPDATE SET error_class = excluded.error_class, "
                    "message = excluded.message, attempts = excluded.attempts, last_failed_at = excluded.last_failed_at",
                    (error_class, message[:2000], now_s, now_s, scene_id),
                )
                stats.count(conn, token, stats.dead_names(error_class))
        return finished

    def _finish_claim(self, token: str, scene_id: int, status: str, error_class: str, message: str, *,
                      count_attempt: bool = False) -> bool:
        """Close the claimed generation without a sync; inside the caller's transaction."""
        cursor = self.conn.execute(
            "UPDATE scenes SET done_generation = claimed_generation, claim_token = NULL, claimed_generation = NULL, "
            f"status = ?, attempts = {'attempts + 1' if count_attempt else '0'}, last_error_class = ?, "
            "last_error = ? WHERE scene_id = ? AND claim_token = ?",
            (status, error_class, message[:2000], scene_id, token),
        )
        return cursor.rowcount == 1

    def release_claims(self, token: str, scene_ids: Iterable[int]) -> None:
        """Give back claims that were not attempted (batch stopped by an outage or a pause)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE scenes SET claim_token = NULL, claimed_generation = NULL WHERE scene_id = ? AND claim_token = ?",
                [(scene_id, token) for scene_id in scene_ids],
            )

    def forget_link(self, scene_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE scenes SET rating_key = NULL, section_id = NULL, fingerprint = NULL "
                         "WHERE scene_id = ?", (scene_id,))

    def forget_all_links(self) -> int:
        with self.transaction() as conn:
            conn.execute("DELETE FROM plex_index")
            return conn.execute("UPDATE scenes SET rating_key = NULL, section_id = NULL, fingerprint = NULL "
                                "WHERE rating_key IS NOT NULL").rowcount

    def make_all_due(self) -> int:
        """'Try now': every pending scene (backed-off ones included) becomes ready."""
        with self.transaction() as conn:
            return conn.execute(f"UPDATE scenes SET not_before = 0 WHERE {PENDING} AND not_before > 0").rowcount

    # -- reading state -----------------------------------------------------------------------

    def next_due_s(self) -> float | None:
        """Earliest time any scene or fan-out marker falls due (None: nothing pending); work scheduled
        before a step back of the wall clock is due now."""
        due = f"CASE WHEN {DUE} THEN MIN(not_before, :now) ELSE not_before END"
        row = self.conn.execute(
            f"SELECT MIN(t) FROM (SELECT MIN({due}) AS t FROM scenes WHERE {PENDING} AND claim_token IS NULL "
            f"UNION ALL SELECT MIN({due}) FROM fanout)", {"now": time.time()}
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def count_in_backoff(self, now_s: float | None = None) -> int:
        """Pending scenes waiting out a retry delay after an error (not the ones waiting for Plex's listing)."""
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM scenes WHERE {PENDING} AND attempts > 0 AND lane != 'waiting_for_plex' AND not_before > ?",
            (time.time() if now_s is None else now_s,)).fetchone()
        return int(row[0])

    def fanout_keys(self) -> set[tuple[str, str]]:
        return {(row[0], row[1]) for row in self.conn.execute("SELECT kind, object_id FROM fanout")}

    def pending_scene_ids(self) -> set[int]:
        return {row[0] for row in self.conn.execute(f"SELECT scene_id FROM scenes WHERE {PENDING}")}

    def scene_state(self, scene_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM scenes WHERE scene_id = ?", (scene_id,)).fetchone()
        return None if row is None else dict(row)

    def fingerprints(self, scene_ids: Iterable[int]) -> dict[int, str | None]:
        """What was last pushed for these synced scenes, a page's worth at a time (never the whole library's)."""
        wanted = [int(scene_id) for scene_id in scene_ids]
        found: dict[int, str | None] = {}
        for start in range(0, len(wanted), IDS_PER_SELECT):
            chunk = wanted[start:start + IDS_PER_SELECT]
            rows = self.conn.execute(f"SELECT scene_id, fingerprint FROM scenes WHERE status = 'synced' AND scene_id "
                                     f"IN ({','.join('?' * len(chunk))})", chunk)
            found.update((row[0], row[1]) for row in rows)
        return found

    def counts(self, live_token: str | None = None) -> dict[str, int]:
        """Scene counts for ``status``. Claims not held by the live lease holder count as pending."""
        row = self.conn.execute(
            f"SELECT SUM({PENDING}), SUM({PENDING} AND claim_token IS NOT NULL AND claim_token = ?), "
            f"SUM(status = 'synced' AND NOT ({PENDING})), SUM(status = 'skipped' AND NOT ({PENDING})), "
            f"SUM({PENDING} AND lane = 'waiting_for_plex') FROM scenes",
            (live_token,),
        ).fetchone()
        dead = self.conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
        fanout = self.conn.execute("SELECT COUNT(*) FROM fanout").fetchone()[0]
        keys = ("pending", "in_progress", "synced", "skipped", "waiting_for_plex")
        counts = {key: int(value or 0) for key, value in zip(keys, row)}
        counts["pending"] -= counts["in_progress"]
        counts.update(dead=int(dead), fanout_pending=int(fanout))
        return counts

    def match_method_histogram(self) -> dict[str, int]:
        """How the links of linked scenes were made (path / basename_size): the confidence picture."""
        rows = self.conn.execute("SELECT match_method, COUNT(*) FROM scenes WHERE match_method IS NOT NULL "
                                 "AND rating_key IS NOT NULL GROUP BY match_method").fetchall()
        return {row[0]: row[1] for row in rows}

    def needing_attention(self, limit: int = 20) -> list[dict[str, Any]]:
        """Scenes that did not reach Plex, or not all of it, and why (skipped, ambiguous, waiting for Plex to list
        the file, synced with a cover left out): what a user wants to see next to the dead letters, without
        opening the database."""
        rows = self.conn.execute(
            f"SELECT scene_id, {PENDING} AS pending, status, attempts, last_error_class, last_error, not_before "
            f"FROM scenes WHERE (status = 'skipped' AND NOT ({PENDING})) OR ({PENDING} AND lane = 'waiting_for_plex') "
            f"OR (status = 'synced' AND NOT ({PENDING}) AND last_error IS NOT NULL) "
            "ORDER BY scene_id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        states = {"skipped": "skipped", "synced": "synced_in_part"}
        return [{"scene_id": row["scene_id"], "state": "waiting_for_plex" if row["pending"] else states[row["status"]],
                 "reason_class": row["last_error_class"], "reason": row["last_error"], "attempts": row["attempts"],
                 "next_try_at": row["not_before"] if row["pending"] else None} for row in rows]

    def scenes_linked_to(self, rating_key: int, *, besides: int) -> list[int]:
        return [row[0] for row in self.conn.execute(
            "SELECT scene_id FROM scenes WHERE rating_key = ? AND scene_id != ? ORDER BY scene_id",
            (rating_key, besides))]

    def linked_scenes(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT scene_id, rating_key, section_id, push_record FROM scenes "
                                 "WHERE rating_key IS NOT NULL").fetchall()
        return [dict(row) for row in rows]

    def force_repush(self, scene_id: int, push_record: str) -> None:
        """Drop the 'unchanged' shortcut and store a push record that no longer claims the drifted fields."""
        with self.transaction() as conn:
            conn.execute("UPDATE scenes SET fingerprint = NULL, push_record = ? WHERE scene_id = ?",
                         (push_record, scene_id))

    # -- fan-out markers ---------------------------------------------------------------------

    def due_fanouts(self, limit: int = 50) -> list[tuple[str, str, int]]:
        rows = self.conn.execute(
            f"SELECT kind, object_id, attempts FROM fanout WHERE {DUE} ORDER BY not_before LIMIT :limit",
            {"now": time.time(), "limit": limit},
        ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def expand_fanout(self, kind: str, object_id: str, scene_ids: Iterable[int]) -> int:
        """Queue the marker's scenes and drop the marker in one transaction."""
        with self.transaction() as conn:
            queued = self._bump_scenes(scene_ids, time.time())
            conn.execute("DELETE FROM fanout WHERE kind = ? AND object_id = ?", (kind, object_id))
        return queued

    def postpone_fanout(self, kind: str, object_id: str, delay_s: float, error: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE fanout SET not_before = ?, scheduled_at = ?, attempts = attempts + 1, last_error = ? "
                         "WHERE kind = ? AND object_id = ?",
                         (time.time() + delay_s, time.time(), error[:2000], kind, object_id))

    # -- dead letters ------------------------------------------------------------------------

    def dead_letters(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute("SELECT * FROM dead_letters ORDER BY last_failed_at")]

    def dead_letter(self, scene_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM dead_letters WHERE scene_id = ?", (scene_id,)).fetchone()
        return None if row is None else dict(row)

    def retry_dead_letters(self) -> int:
        with self.transaction() as conn:
            ids = [row[0] for row in conn.execute("SELECT scene_id FROM dead_letters")]
            self._bump_scenes(ids, 0.0)
            conn.execute("DELETE FROM dead_letters")
        return len(ids)

    def clear_dead_letters(self) -> int:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM dead_letters").rowcount

    def purge_dead_letters(self, older_than_days: float) -> int:
        cutoff_s = time.time() - older_than_days * 86400
        with self.transaction() as conn:
            return conn.execute("DELETE FROM dead_letters WHERE last_failed_at < ?", (cutoff_s,)).rowcount

    def clear_pending(self) -> int:
        """Drop pending work (not in-progress claims); scenes stay known with their Plex links."""
        with self.transaction() as conn:
            dropped = conn.execute(f"UPDATE scenes SET done_generation = generation, status = 'cleared' "
                                   f"WHERE {PENDING} AND claim_token IS NULL").rowcount
            dropped += conn.execute("DELETE FROM fanout").rowcount
        return dropped

    # -- links the Plex index no longer vouches for -------------------------------------------

    def requeue_unlisted_links(self, section_id: int) -> int:
        """After a full listing: scenes linked to an item the library no longer has (deleted, or re-added
        under a new ratingKey) lose the link and are queued to match again."""
        with self.transaction() as conn:
            ids = [row[0] for row in conn.execute(
                "SELECT scene_id FROM scenes WHERE section_id = ? AND rating_key IS NOT NULL AND rating_key NOT IN "
                "(SELECT rating_key FROM plex_index WHERE section_id = ?)", (section_id, section_id))]
            conn.executemany("UPDATE scenes SET rating_key = NULL, section_id = NULL, fingerprint = NULL "
                             "WHERE scene_id = ?", [(scene_id,) for scene_id in ids])
            self._bump_scenes(ids, time.time())
        return len(ids)
