"""The one durable store: a single SQLite file in WAL mode (its core, all a hook uses: ``sync_queue.database``).

Hooks append events to persist-queue's ``SQLiteAckQueue`` table (JSON serializer); the lease-holding worker
absorbs them into the ``scenes`` / ``fanout`` tables, where work coalesces per object. Every multi-step change
runs inside :meth:`Store.transaction`, so a SIGKILL at any instant leaves either the old or the new state.
Not imported by the hook path; persist-queue loads only when the intake is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sync_queue import schema
from sync_queue.intake import spool
from sync_queue.intake import spool_ledger
from sync_queue.database import BUSY_TIMEOUT_S, Database
from sync_queue.mirror.plex_index import PlexIndexMixin
from sync_queue.scenes import FANOUT_KINDS, SceneStateMixin
from sync_queue.stats import StatsMixin
from validation.stash_log import get_logger

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


def _read_spool(paths: list[Path]) -> tuple[list[tuple[Path, Any]], dict[str, str]]:
    """(path, event) for each spool file read (None: not JSON, it never becomes an event), and name → why for
    each that could not be read now."""
    read, failures = [], {}
    for path in paths:
        try:
            read.append((path, spool.read_event(path)))
        except FileNotFoundError:
            continue  # absorbed and deleted by another run a moment ago
        except OSError as exc:
            failures[path.name] = str(exc)
    return read, failures


class Store(Database, SceneStateMixin, PlexIndexMixin, StatsMixin):
    """Queue, per-scene sync state, dead letters, Plex index, key-value state and the worker lease."""

    def __init__(self, data_dir: str | os.PathLike[str], *, timeout_s: float = BUSY_TIMEOUT_S) -> None:
        super().__init__(data_dir, timeout_s=timeout_s)
        self._intake: Any = None

    def __enter__(self) -> Store:
        return self

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()
            self._intake = None
        super().close()

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
                timeout=self.timeout_s,
            )
        return self._intake

    # -- intake (hooks append here) ----------------------------------------------------------

    def intake_size(self) -> int:
        """Events not yet absorbed, counted in the database (persist-queue's ``size`` is a per-process
        counter that never sees other processes' puts, and hooks are other processes) and in the spool."""
        row = self.conn.execute(f"SELECT COUNT(*) FROM {schema.INTAKE_TABLE} WHERE status < ?",
                                (schema.INTAKE_TAKEN,)).fetchone()
        return int(row[0]) + len(self._unapplied_spool_files())

    def _unapplied_spool_files(self, limit: int | None = None) -> list[Path]:
        """Spooled events not absorbed yet (a file applied but not deleted yet is not one)."""
        applied = self.get_json(spool_ledger.APPLIED_KEY, {}) or {}
        return [path for path in spool.spooled_files(self.data_dir) if path.name not in applied][:limit]

    def absorb_intake(self, settle_s: float, limit: int = 2000) -> int:
        """Move intake events into coalesced scene/fan-out rows; returns how many events were absorbed.

        Rows are acked, and the spool files read deleted, only after the transaction that applied them
        committed. A crash in between leaves them; applying them again is harmless (coalescing). A spool file
        that cannot be read now is kept and tried again (reported after a few tries); one that cannot be
        deleted is remembered as applied in that same transaction, so it is never applied again.
        """
        from persistqueue.exceptions import Empty

        taken: list[dict[str, Any]] = []
        while len(taken) < limit:
            try:
                taken.append(self.intake.get(block=False, raw=True))
            except Empty:
                break
        spooled = spool.spooled_files(self.data_dir, limit)  # files a hook spools from now on wait for next time
        if not taken and not spooled:
            return 0
        read, failures = _read_spool(spooled)
        self.waits_table()  # a destroy event forgets the scene's waits
        with self.transaction():
            folder = spool.spool_dir(self.data_dir)
            applied = spool_ledger.still_there(self.get_json(spool_ledger.APPLIED_KEY, {}) or {}, folder)
            fresh = [(path, event) for path, event in read if path.name not in applied]
            for raw in taken:
                self._apply_event(raw.get("data"), settle_s)
            for _, event in fresh:
                self._apply_event(event, settle_s)
            self.set_json(spool_ledger.APPLIED_KEY, spool_ledger.applied(applied, (p.name for p, _ in fresh)))
            unreadable, reached = spool_ledger.failed_reads(
                spool_ledger.still_there(self.get_json(spool_ledger.UNREADABLE_KEY, {}) or {}, folder), failures,
                (path.name for path, _ in read))
            self.set_json(spool_ledger.UNREADABLE_KEY, unreadable)
        for raw in taken:
            self.intake.ack(id=raw["pqid"])
        if taken:
            self.intake.clear_acked_data(max_delete=10_000, keep_latest=0, clear_ack_failed=True)
        self._remove_absorbed([path for path, _ in read])
        for name in reached:
            log.info("A spooled hook event (%s) could not be read %d times (%s); it is kept and tried again",
                     folder / name, spool_ledger.REPORT_AFTER_ATTEMPTS, unreadable[name]["error"])
        for path, event in fresh:
            if event is None:
                log.info("A spool file (%s) held no event (not JSON); it was deleted", path)
        return len(taken) + sum(1 for _, event in fresh if event is not None)

    def _remove_absorbed(self, paths: list[Path]) -> None:
        """Delete the spool files an absorb applied; those that stay (a Windows sharing violation) stay known as
        applied, the others leave the ledger."""
        kept = spool.remove_files(self.data_dir, paths)
        for name, error in kept.items():
            log.info("A spooled hook event (%s) was applied but could not be deleted (%s); it is not applied again",
                     spool.spool_dir(self.data_dir) / name, error)
        gone = {path.name for path in paths} - set(kept)
        applied = self.get_json(spool_ledger.APPLIED_KEY, {}) or {}
        if gone & set(applied):
            self.set_json(spool_ledger.APPLIED_KEY, {name: at for name, at in applied.items() if name not in gone})

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
        counts["spool_unreadable"] = spool_ledger.reported(self.get_json(spool_ledger.UNREADABLE_KEY, {}) or {})
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
        """The (kind, id) of each spooled event not absorbed yet (one that can't be read now counts as an event
        of unknown kind)."""
        read, failures = _read_spool(self._unapplied_spool_files())
        return _event_keys([event for _, event in read]) + [("unreadable", name) for name in failures]

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
        spooled = self._unapplied_spool_files()
        kept = spool.remove_files(self.data_dir, spooled)
        if kept:  # cleared all the same: never applied later
            applied = self.get_json(spool_ledger.APPLIED_KEY, {}) or {}
            self.set_json(spool_ledger.APPLIED_KEY, spool_ledger.applied(applied, kept))
        return dropped + len(spooled)

