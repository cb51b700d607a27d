"""The play ledger: which Plex plays went into Stash, how far each account's history was read, which linked
items' whole history was read, the resume points written, and who is importing right now.

**The exactly-once rule.** Stash's mutation and our commit live in two databases, so a write into Stash is
first noted here as an *intent* (a play: its key, scene and time), then sent, then marked *done*. An intent
still open at the next run is resolved by reading Stash: a play whose time is in the scene's Stash history
more often than the done plays at that time is marked done, not added again; only what Stash lacks is sent.

Tables are created here, lazily, when the importer opens the ledger (the core schema does not know them).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any, Iterable, NamedTuple

from sync_queue.intake.processes import pid_alive

CREATE_PLEX_PLAYS = """
CREATE TABLE IF NOT EXISTS plex_plays (
    play_key   TEXT    NOT NULL,
    scene_id   INTEGER NOT NULL,
    viewed_at  INTEGER NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'intent',
    noted_at   REAL    NOT NULL,
    done_at    REAL,
    PRIMARY KEY (play_key, scene_id)
)"""
CREATE_PLEX_PLAYS_OPEN = "CREATE INDEX IF NOT EXISTS ix_plex_plays_open ON plex_plays(scene_id) WHERE state = 'intent'"
# Linked Plex items whose whole play history was read once (later runs read only from the watermark).
CREATE_PLEX_PLAY_ITEMS = """
CREATE TABLE IF NOT EXISTS plex_play_items (
    rating_key  INTEGER PRIMARY KEY,
    covered_at  REAL NOT NULL
)"""
# The resume point last written to each scene, so an unchanged one costs no Stash request.
CREATE_PLEX_RESUME = """
CREATE TABLE IF NOT EXISTS plex_resume (
    scene_id     INTEGER PRIMARY KEY,
    rating_key   INTEGER NOT NULL,
    view_offset  INTEGER NOT NULL
)"""
# One importer at a time (a task and the worker's periodic import would otherwise add the same play twice).
CREATE_PLEX_PLAY_RUN = """
CREATE TABLE IF NOT EXISTS plex_play_run (
    name        TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    expires_at  REAL NOT NULL
)"""
# Stash plays sent to Plex as a scrobble (``scrobble_stash_plays``): intent, then done once Plex took it.
# ``echo_key``: a Plex history row an earlier version took for the scrobble's own (PMS before 1.40 wrote one);
# it stays out of Stash. Nothing new is recorded there: PlexSync no longer scrobbles to a server that writes them.
CREATE_PLEX_SCROBBLES = """
CREATE TABLE IF NOT EXISTS plex_scrobbles (
    scene_id    INTEGER NOT NULL,
    played_at   INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    rating_key  INTEGER NOT NULL,
    sent_at     REAL    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'intent',
    echo_key    TEXT,
    PRIMARY KEY (scene_id, played_at, seq)
)"""
PLAYS_DDL = (CREATE_PLEX_PLAYS, CREATE_PLEX_PLAYS_OPEN, CREATE_PLEX_PLAY_ITEMS, CREATE_PLEX_RESUME,
             CREATE_PLEX_PLAY_RUN, CREATE_PLEX_SCROBBLES)
WATERMARKS_KEY = "plex_plays_watermarks"  # kv: {account id: newest viewedAt read}
RUN_TTL_S = 600.0

INTENT, DONE, GONE, ECHO = "intent", "done", "gone", "echo"


class Play(NamedTuple):
    play_key: str  # "<ratingKey>:<accountID>:<viewedAt>": the same play seen twice has the same key
    scene_id: int
    viewed_stamp: int  # Plex's viewedAt


def play_key(rating_key: int, account_id: int, viewed_stamp: int) -> str:
    return f"{int(rating_key)}:{int(account_id)}:{int(viewed_stamp)}"


def played_item(key: str) -> int:
    """The ratingKey of the item a play key names."""
    return int(key.split(":", 1)[0])


class PlayLedger:
    """Operations on the play tables of a :class:`sync_queue.store.Store`, each one short transaction."""

    def __init__(self, store: Any) -> None:
        self.store = store
        conn = store.conn
        for statement in PLAYS_DDL:  # IF NOT EXISTS: cheap, and safe when two processes race here
            conn.execute(statement)

    # -- the importer's turn ---------------------------------------------------------------------

    def acquire(self, pid: int, ttl_s: float = RUN_TTL_S) -> str | None:
        """A token when no live importer holds the turn (a SIGKILLed one's pid is gone), else None."""
        token, now_s = uuid.uuid4().hex, time.time()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT pid, expires_at FROM plex_play_run WHERE name = 'import'").fetchone()
            if row is not None and row["expires_at"] >= now_s and pid_alive(row["pid"]):
                return None
            conn.execute("INSERT OR REPLACE INTO plex_play_run(name, token, pid, expires_at) "
                         "VALUES('import', ?, ?, ?)", (token, pid, now_s + ttl_s))
        return token

    def renew(self, token: str, ttl_s: float = RUN_TTL_S) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE plex_play_run SET expires_at = ? WHERE name = 'import' AND token = ?",
                         (time.time() + ttl_s, token))

    def release(self, token: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM plex_play_run WHERE name = 'import' AND token = ?", (token,))

    # -- what was read from Plex -----------------------------------------------------------------

    def watermarks(self) -> dict[int, int]:
        return {int(k): int(v) for k, v in (self.store.get_json(WATERMARKS_KEY, {}) or {}).items()}

    def covered_items(self) -> set[int]:
        return {row[0] for row in self.store.conn.execute("SELECT rating_key FROM plex_play_items")}

    def note(self, plays: Iterable[Play], watermarks: dict[int, int], covered: Iterable[int]) -> int:
        """Write down new plays as intents (known keys are left as they are), with how far the history was
        read, in one transaction: the watermark never moves past a play that is not written down."""
        now_s = time.time()
        with self.store.transaction() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO plex_plays(play_key, scene_id, viewed_at, state, noted_at) "
                             "VALUES(?, ?, ?, 'intent', ?)",
                             [(p.play_key, p.scene_id, p.viewed_stamp, now_s) for p in plays])
            added = conn.total_changes - before
            merged = {**self.watermarks()}
            for account, mark in watermarks.items():
                merged[account] = max(mark, merged.get(account, 0))
            self.store.set_json(WATERMARKS_KEY, {str(k): v for k, v in merged.items()})
            conn.executemany("INSERT OR IGNORE INTO plex_play_items(rating_key, covered_at) VALUES(?, ?)",
                             [(int(key), now_s) for key in covered])
        return added

    def unknown(self, plays: Iterable[Play]) -> list[Play]:
        """The plays not written down yet (read only: what an import would add)."""
        wanted = list(plays)
        known: set[tuple[str, int]] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            known.update((row[0], row[1]) for row in self.store.conn.execute(
                f"SELECT play_key, scene_id FROM plex_plays WHERE play_key IN ({','.join('?' * len(chunk))})",
                [play.play_key for play in chunk]))
        return [play for play in wanted if (play.play_key, play.scene_id) not in known]

    # -- intents → Stash -------------------------------------------------------------------------

    def open_scene_ids(self) -> list[int]:
        return [row[0] for row in self.store.conn.execute(
            "SELECT DISTINCT scene_id FROM plex_plays WHERE state = 'intent' ORDER BY scene_id")]

    def intents(self, scene_id: int) -> list[Play]:
        return [Play(*row) for row in self.store.conn.execute(
            "SELECT play_key, scene_id, viewed_at FROM plex_plays WHERE scene_id = ? AND state = 'intent' "
            "ORDER BY viewed_at, play_key", (scene_id,))]

    def done_times(self, scene_id: int) -> Counter[int]:
        return Counter(row[0] for row in self.store.conn.execute(
            "SELECT viewed_at FROM plex_plays WHERE scene_id = ? AND state = 'done'", (scene_id,)))

    def settle(self, plays: Iterable[Play], state: str = DONE) -> None:
        now_s = time.time()
        with self.store.transaction() as conn:
            conn.executemany("UPDATE plex_plays SET state = ?, done_at = ? WHERE play_key = ? AND scene_id = ?",
                             [(state, now_s, p.play_key, p.scene_id) for p in plays])

    def imported_times(self, scene_id: int) -> Counter[int]:
        """Times of the plays we put (or are putting) into this scene: never sent back to Plex."""
        return Counter(row[0] for row in self.store.conn.execute(
            "SELECT viewed_at FROM plex_plays WHERE scene_id = ? AND state IN ('intent', 'done')", (scene_id,)))

    # -- Stash plays sent to Plex (loop protection both ways) ------------------------------------

    def scrobbled_times(self, scene_id: int) -> Counter[int]:
        return Counter(row[0] for row in self.store.conn.execute(
            "SELECT played_at FROM plex_scrobbles WHERE scene_id = ?", (scene_id,)))

    def note_scrobble(self, scene_id: int, played_at: int, rating_key: int) -> int:
        """Write the intent down before Plex is asked; returns its sequence number (several plays may share a
        second)."""
        with self.store.transaction() as conn:
            seq = conn.execute("SELECT COUNT(*) FROM plex_scrobbles WHERE scene_id = ? AND played_at = ?",
                               (scene_id, played_at)).fetchone()[0]
            conn.execute("INSERT INTO plex_scrobbles(scene_id, played_at, seq, rating_key, sent_at) "
                         "VALUES(?, ?, ?, ?, ?)", (scene_id, played_at, seq, rating_key, time.time()))
        return seq

    def scrobble_done(self, scene_id: int, played_at: int, seq: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE plex_scrobbles SET state = 'done' WHERE scene_id = ? AND played_at = ? AND seq = ?",
                         (scene_id, played_at, seq))

    def open_scrobbles(self) -> list[Any]:
        return self.store.conn.execute("SELECT scene_id, played_at, seq, rating_key, sent_at FROM plex_scrobbles "
                                       "WHERE state = 'intent' ORDER BY sent_at").fetchall()

    def echo_keys(self) -> set[str]:
        """Play keys of the Plex history rows earlier versions recorded as their own scrobbles' echoes."""
        return {row[0] for row in self.store.conn.execute(
            "SELECT echo_key FROM plex_scrobbles WHERE echo_key IS NOT NULL")}

    # -- resume points ---------------------------------------------------------------------------

    def resume_offsets(self) -> dict[int, int]:
        return {row[0]: row[1] for row in self.store.conn.execute("SELECT scene_id, view_offset FROM plex_resume")}

    def record_resume(self, scene_id: int, rating_key: int, view_offset: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO plex_resume(scene_id, rating_key, view_offset) VALUES(?, ?, ?)",
                         (scene_id, rating_key, view_offset))

    def counts(self) -> dict[str, int]:
        rows = self.store.conn.execute("SELECT state, COUNT(*) FROM plex_plays GROUP BY state").fetchall()
        return {state: 0 for state in (INTENT, DONE, GONE)} | {row[0]: row[1] for row in rows}

