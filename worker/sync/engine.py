"""Sync one batch of claimed scenes: hydrate from Stash, match, push, record each outcome.

Each failure is classified once (``plex.errors``) and routed: item-level outcomes (not in Plex yet,
ambiguous, rejected) stay with that scene; Plex being down feeds the breaker; a rejected token or a
missing library pauses the whole queue and gives every untried claim back untouched.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Sequence

from plex.errors import (
    AmbiguousMatch,
    ImageUnusable,
    ItemNotInPlex,
    PlexAuthError,
    PlexConfigError,
    PlexItemGone,
    PlexRejected,
    PlexUnavailable,
)
from plex.matcher import Matcher, PathMapper, basename_key, is_under, path_key
from plex.metadata_writer import ImageSource, MetadataWriter, PushRecord
from sync_queue.scenes import Claim
from validation.metadata import SceneDataError
from validation.stash_log import event, get_logger
from worker.sync import backoff
from worker.sync.batch import BatchReport, PushJob, StartedBatch
from worker.sync.breaker import CLOSED, Breaker
from worker.artwork.collection_posters import CollectionPosters
from worker.sync.index_refresh import refresh_if_stale, refresh_index
from worker.sync.pauses import Pause, clear_stash_failures, record_stash_failure, set_pause
from worker.artwork.performer_photos import SceneModels
from worker.sync.push_pool import UNTRIED, PushPool
from worker.sync.request_limits import LearnedLimit
from worker.stash.reader import CoverUnusable, StashError, StashUnavailable
from worker.sync.write_safety import WrongItem, read_items, take_the_read, wrong_item

log = get_logger("engine")

LINK_REUSED = ("link", "unchanged")  # sync outcomes over a link made earlier, not ways of matching


class SyncEngine:
    """The worker's "sync one batch of scenes" seam: everything between a claim and its recorded outcome."""

    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self.store = runtime.store
        self.config = runtime.config
        self.mapper = PathMapper(self.config.path_rules)
        self.matcher = Matcher(self.store, self.mapper, strict=self.config.strict_matching)
        self.learned_limit = LearnedLimit(self.store, self.config.plex_url)  # Plex's request size, once refused
        self.writer = MetadataWriter(runtime.plex, preserve_plex_edits=self.config.preserve_plex_edits,
                                     request_limit=self.learned_limit.limit,
                                     keep_plex_rating=self.config.ratings_from_plex)
        self.breaker = Breaker(self.store)
        self._scanned_folders: set[tuple[int, str]] = set()  # a new folder of 1,000 files is one scan request
        self._attention: list[dict[str, Any]] = []
        self.models = SceneModels(runtime)  # what Plex should show for a scene (performer photos included)
        self.pushes = PushPool(runtime)  # shared by the batches in flight
        self.posters = CollectionPosters(runtime)  # owned collections' posters, checked after each synced scene

    # -- one batch -----------------------------------------------------------------------------

    def sync_batch(self, token: str, claims: Sequence[Claim]) -> BatchReport:
        """Prepare every claim locally, push the ones that need Plex concurrently, record outcomes in order."""
        return self.finish_batch(token, self.start_batch(token, claims))

    def start_batch(self, token: str, claims: Sequence[Claim]) -> StartedBatch:
        """Hydrate and prepare every claim (outcomes that need no push are recorded now), then queue the
        pushes; they run on the push threads while the caller does other work (the previous batch's outcomes)."""
        self.pushes.resume()
        try:
            scenes = self.rt.stash.scenes_by_ids([claim.scene_id for claim in claims])
        except StashError as exc:
            delay_s = backoff.stash_delay_s(record_stash_failure(self.store, exc))
            for claim in claims:  # not the scenes' fault: no attempt counted, just a later due time
                self.store.mark_retry(token, claim.scene_id, delay_s=delay_s, error_class=type(exc).__name__,
                                      message=str(exc), lane=claim.lane, count_attempt=False)
            raise Pause("stash", f"Stash did not answer: {exc}", retry_after_s=time.time() + delay_s) from exc
        clear_stash_failures(self.store)
        self._plex_ready_or_pause(token, claims, refresh=any(claim.rating_key is None for claim in claims))
        report = BatchReport()
        jobs: list[PushJob] = []
        for claim in claims:  # local work only: Plex was reached just above
            prepared = self._guarded(token, claim, lambda c=claim: self._prepare(token, c, scenes.get(c.scene_id)))
            if isinstance(prepared, PushJob):
                jobs.append(prepared)
            else:
                report.tally(prepared)
        details = read_items(self.rt.plex, [job.match.rating_key for job in jobs])  # the write-safety rule
        return StartedBatch(report, [(job, self.pushes.submit(functools.partial(self._push, job, details)))
                                     for job in jobs])

    def finish_batch(self, token: str, batch: StartedBatch) -> BatchReport:
        """Record each push's outcome in claim order, as soon as it is known (on the caller's thread)."""
        report = batch.report
        global_problem: Exception | None = None
        outage: Exception | None = None
        for job, future in batch.pushes:
            result = future.result()
            if result is UNTRIED:
                self.store.release_claims(token, [job.claim.scene_id])
                continue
            try:
                if isinstance(result, (PlexAuthError, PlexConfigError)):
                    raise result
                outcome = self._guarded(token, job.claim, lambda j=job, r=result: self._settle(token, j, r))
            except (PlexAuthError, PlexConfigError) as exc:
                self.store.release_claims(token, [job.claim.scene_id])  # untried as far as the scene goes
                global_problem = global_problem or exc
                continue
            if isinstance(result, PlexUnavailable) and self.breaker.state() != CLOSED:
                outage = result
            if outcome is not None:  # None: handed back to be matched again by the next batch
                report.tally(outcome)
        self.pushes.tune()
        report.attention, self._attention = self._attention, []
        if global_problem is not None:
            kind = "auth" if isinstance(global_problem, PlexAuthError) else "config"
            set_pause(self.store, kind, str(global_problem), self.config)
            raise Pause(kind, str(global_problem), report=report) from global_problem
        if outage is not None:
            raise Pause("outage", f"Plex is not answering: {outage}", retry_after_s=self.breaker.retry_at_s(),
                        report=report) from outage
        return report

    def _guarded(self, token: str, claim: Claim, step: Callable[[], Any]) -> Any:
        """Run one scene's step; whatever a scene's own failure is, it is recorded and never lost."""
        try:
            return step()
        except PlexUnavailable as exc:
            self.breaker.record_failure(str(exc), retry_after_s=exc.retry_after_s)
            return self._defer_transient(token, claim, exc)
        except (PlexAuthError, PlexConfigError):
            raise
        except StashUnavailable as exc:  # the cover download found Stash busy or restarting: not the scene's fault
            self.store.mark_retry(token, claim.scene_id, delay_s=backoff.stash_delay_s(claim.attempts + 1),
                                  error_class=type(exc).__name__, message=str(exc), lane=claim.lane,
                                  count_attempt=False)
            return "waiting_for_plex"
        except Exception as exc:  # a bug or a shape nobody foresaw: retry, then dead-letter
            log.error("Scene %s failed unexpectedly", claim.scene_id, exc_info=True)
            return self._rejected(token, claim, exc)

    def _plex_ready_or_pause(self, token: str, claims: Sequence[Claim], refresh: bool) -> None:
        """The libraries (and, for unlinked scenes, new files) come first: a failure here stops the batch
        with every claim untouched."""
        try:
            if refresh:
                refresh_if_stale(self.store, self.rt.plex, self.rt.sections)
            else:
                self.rt.sections  # listed once per run; the matcher needs them
        except (PlexAuthError, PlexConfigError) as exc:
            self.store.release_claims(token, [claim.scene_id for claim in claims])
            kind = "auth" if isinstance(exc, PlexAuthError) else "config"
            set_pause(self.store, kind, str(exc), self.config)
            raise Pause(kind, str(exc)) from exc
        except PlexUnavailable as exc:
            self.store.release_claims(token, [claim.scene_id for claim in claims])
            self.breaker.record_failure(str(exc), retry_after_s=exc.retry_after_s)
            raise Pause("outage", f"Plex is not answering: {exc}", retry_after_s=self.breaker.retry_at_s()
                        or time.time() + backoff.TRANSIENT_BASE_S) from exc

    # -- one scene -----------------------------------------------------------------------------

    def _prepare(self, token: str, claim: Claim, scene: dict[str, Any] | None) -> str | PushJob:
        """Everything short of writing to Plex: the outcome when that settles it, else the push to make."""
        if scene is None:
            self.store.mark_skipped(token, claim.scene_id, reason="The scene no longer exists in Stash",
                                    error_class="SceneGone")
            self._note(claim, "gone", "it no longer exists in Stash")
            return "skipped"
        try:
            wanted = self.models.wanted(scene)
        except SceneDataError as exc:
            self.store.mark_dead(token, claim.scene_id, error_class="SceneDataError", message=str(exc))
            self._note(claim, "dead", str(exc))
            return "failed"
        for warning in wanted.warnings:
            log.warning("Scene %s: %s", claim.scene_id, warning)
        fingerprint = wanted.fingerprint()
        if claim.rating_key is not None and claim.fingerprint == fingerprint:
            cuts = PushRecord.from_json(claim.push_record).cut_notes() if claim.push_record else []
            self._record_synced(token, claim, claim.rating_key, claim.section_id, "unchanged",
                                claim.push_record or "", fingerprint, scene, note="; ".join(cuts) or None)
            self.posters.after_scene(scene, claim.push_record, claim.section_id)
            return "unchanged"
        link = self._trusted_link(claim, scene)
        try:
            match = self._match(claim, scene, link)
        except (ItemNotInPlex, AmbiguousMatch) as exc:
            return self._unmatched(token, claim, scene, exc)
        return PushJob(claim, scene, wanted, fingerprint, match)

    def _settle(self, token: str, job: PushJob, result: Any) -> str | None:
        """Record one push's result; a vanished item is matched again and pushed once more (after its own read)."""
        self.learned_limit.keep()
        if isinstance(result, PlexItemGone):
            # The linked item was deleted or re-added under a new ratingKey: forget it and match afresh.
            self.store.forget_link(job.claim.scene_id)
            self.store.drop_index_item(job.match.rating_key)
            refresh_index(self.store, self.rt.plex, self.rt.sections)  # its new ratingKey, if re-added
            try:
                job.match = self._match(job.claim, job.scene, None)
            except (ItemNotInPlex, AmbiguousMatch) as exc:
                return self._unmatched(token, job.claim, job.scene, exc)
            result = self._push(job)
        if isinstance(result, WrongItem):
            return self._wrong_item(token, job, result)
        if isinstance(result, PlexRejected):
            return self._rejected(token, job.claim, result)
        if isinstance(result, Exception):
            raise result
        self.breaker.record_success()
        match = job.match
        # A cover Plex refused is tried again when the scene is next queued: Sync All and Reconcile queue a
        # scene with no fingerprint. A list cut to the request limit is not: the record holds what Plex got, so
        # a re-sync with nothing changed writes nothing (and the note stays).
        self._record_synced(token, job.claim, match.rating_key, match.section_id, match.method,
                            result.record.to_json(), None if result.unusable_images else job.fingerprint, job.scene,
                            note="; ".join(result.notes + result.cuts) or None)
        self.posters.after_scene(job.scene, result.record.to_json(), match.section_id)
        for note in result.notes:
            log.warning("Scene %s: %s; its other fields are in Plex", job.claim.scene_id, note)
        for cut in result.cuts:
            log.info("Scene %s: %s", job.claim.scene_id, cut)
        if result.wrote_fields or result.uploaded:
            log.info("Scene %s → Plex item %s (%s): %s", job.claim.scene_id, match.rating_key, match.method,
                     ", ".join(result.wrote_fields + result.uploaded),
                     extra=event("scene.synced", scene_id=job.claim.scene_id, rating_key=match.rating_key,
                                 method=match.method, fields=result.wrote_fields + result.uploaded))
        return "succeeded"

    def _unmatched(self, token: str, claim: Claim, scene: dict, exc: Exception) -> str:
        """Not in the index, or in it more than once: the scene is queued again when the index changes for one of
        its paths or file names (``sync_queue.mirror.plex_index``), and meanwhile as the outcome says."""
        files = [str(file["path"]) for file in scene.get("files") or [] if file.get("path")]
        self.store.wait_for_index(claim.scene_id, [path_key(self.mapper.to_plex(path)) for path in files],
                                  [basename_key(path) for path in files])
        if isinstance(exc, ItemNotInPlex):
            return self._not_in_plex(token, claim, scene, exc)
        self.store.mark_skipped(token, claim.scene_id, reason=str(exc), error_class="AmbiguousMatch")
        log.warning("Scene %s skipped: %s", claim.scene_id, exc,
                    extra=event("scene.skipped", scene_id=claim.scene_id, error_class="AmbiguousMatch"))
        self._note(claim, "ambiguous", str(exc))
        return "skipped"

    def _note(self, claim: Claim, state: str, reason: str) -> None:
        self._attention.append({"scene_id": claim.scene_id, "state": state, "reason": reason[:300]})

    def _locations(self) -> list[str]:
        return [folder for section in self.rt.sections for folder in section.locations]

    def _match(self, claim: Claim, scene: dict, link: tuple[int, int] | None) -> Any:
        match = self.matcher.match(scene.get("files") or [], link, {section.id for section in self.rt.sections},
                                   self._locations())
        if match.method == "basename_size":
            # A name-and-size guess must not take an item another scene is already the source of.
            owners = self.store.scenes_linked_to(match.rating_key, besides=claim.scene_id)
            if owners:
                raise AmbiguousMatch([(match.rating_key, f"{match.file} (already synced from scene "
                                                         f"{', '.join(map(str, owners))})")])
        return match

    def _trusted_link(self, claim: Claim, scene: dict) -> tuple[int, int] | None:
        """Use the stored link unless the index says the scene's file now belongs to another item."""
        if claim.rating_key is None or claim.section_id is None:
            return None
        for file in scene.get("files") or []:
            rows = self.store.parts_by_path_key(path_key(self.mapper.to_plex(file.get("path") or "")))
            if rows and all(row.rating_key != claim.rating_key for row in rows):
                return None
        return (claim.rating_key, claim.section_id)

    def _push(self, job: PushJob, details: dict[int, Any] | None = None) -> Any:
        """Write one scene under the write-safety rule: checked against the batch's read of its item (``details``)
        or, for an item it lacks, its own GET; a failed check writes nothing and is the result (a WrongItem)."""
        match = job.match
        item = (details or {}).get(match.rating_key) or self.rt.plex.fetch_detail(match.rating_key)
        wrong = wrong_item(self.matcher, item, match.rating_key, match.section_id, job.scene.get("files") or [],
                           self._locations())
        if wrong is not None:
            return wrong
        return self.writer.push(*self._push_inputs(job.claim, match, job.wanted, job.fingerprint), detail=item)

    def _wrong_item(self, token: str, job: PushJob, wrong: WrongItem) -> str | None:
        """The read item does not hold the scene's file, so nothing was written: the index takes the item as the
        read showed it and the scene is matched again. None: the claim is handed back for the next batch to write
        (after its own read)."""
        claim = job.claim
        take_the_read(self.store, wrong)
        if claim.rating_key is not None:
            self.store.forget_link(claim.scene_id)
        log.info("Scene %s: Plex item %s holds %s, not this scene's file; nothing written to it, matching again",
                 claim.scene_id, wrong.rating_key, ", ".join(part.file for part in wrong.held.parts) or "no file")
        try:
            self._match(claim, job.scene, None)
        except (ItemNotInPlex, AmbiguousMatch) as exc:
            return self._unmatched(token, claim, job.scene, exc)
        self.store.release_claims(token, [claim.scene_id])
        return None

    @staticmethod
    def _previous_record(claim: Claim, match: Any) -> PushRecord | None:
        previous = PushRecord.from_json(claim.push_record) if claim.push_record else None
        if previous is not None and previous.rating_key != match.rating_key:
            return None  # a different (re-added) item: nothing we wrote is known to be there
        return previous

    def _push_inputs(self, claim: Claim, match: Any, wanted: Any, fingerprint: str) -> tuple:
        previous = self._previous_record(claim, match)
        download = self._cover_downloader()
        images = {kind: ImageSource(url=url, fetch=lambda url=url: download(url)) for kind, url in wanted.images.items()}
        return match.rating_key, match.section_id, wanted.plex_fields(), images, previous, fingerprint

    # -- the dry run (worker.tasks.preview): the same decisions, nothing written -------------------------

    def locate(self, claim: Claim, scene: dict) -> Any:
        """The Plex item a sync of ``scene`` would write to, found the way a sync finds it (no write)."""
        return self._match(claim, scene, self._trusted_link(claim, scene))

    def plan_push(self, claim: Claim, match: Any, wanted: Any, fingerprint: str) -> Any:
        """What a push would write to ``match`` (``MetadataWriter.plan``): reads only, the item's own first (as a
        push reads it before writing; a deleted item is PlexItemGone)."""
        detail = self.rt.plex.fetch_detail(match.rating_key)
        return self.writer.plan(*self._push_inputs(claim, match, wanted, fingerprint), detail=detail)

    def _cover_downloader(self) -> Callable[[str], bytes]:
        """Poster and background share one download; a cover Plex can't take is left out, not the item."""
        @functools.lru_cache(maxsize=4)
        def download(url: str) -> bytes:
            try:
                return self.rt.stash.download_image(url)
            except CoverUnusable as exc:
                raise ImageUnusable(str(exc)) from None

        return download

    def _record_synced(self, token: str, claim: Claim, rating_key: int, section_id: int, method: str,
                       record: str, fingerprint: str | None, scene: dict, note: str | None = None) -> None:
        made_link = method not in LINK_REUSED  # how the link was made is recorded once, when it is made
        self.store.mark_synced(token, claim.scene_id, rating_key=rating_key, section_id=section_id,
                               match_method=method if made_link else None, push_record=record,
                               fingerprint=fingerprint, stash_updated_at=scene.get("updated_at"), note=note,
                               outcome="unchanged" if method == "unchanged" else "synced")

    # -- failures that stay with one scene ----------------------------------------------------

    def _not_in_plex(self, token: str, claim: Claim, scene: dict, exc: ItemNotInPlex) -> str:
        if self.config.skip_not_found:
            self.store.mark_skipped(token, claim.scene_id, reason=str(exc), error_class="ItemNotInPlex")
            self._note(claim, "not_in_plex", str(exc))
            return "skipped"
        if self.config.trigger_plex_scan and claim.lane != "waiting_for_plex":
            self._ask_plex_to_scan(scene)
        attempt = claim.attempts + 1 if claim.lane == "waiting_for_plex" else 1
        self.store.mark_retry(token, claim.scene_id, delay_s=backoff.not_found_delay_s(attempt),
                              error_class="ItemNotInPlex", message=str(exc), lane="waiting_for_plex")
        self._note(claim, "waiting_for_plex", str(exc))
        return "waiting_for_plex"

    def _ask_plex_to_scan(self, scene: dict) -> None:
        for file in scene.get("files") or []:
            plex_path = self.mapper.to_plex(file.get("path") or "")
            folder = plex_path[: max(plex_path.rfind("/"), plex_path.rfind("\\"))] or plex_path
            for section in self.rt.sections:
                if any(is_under(plex_path, loc) for loc in section.locations):
                    if (section.id, path_key(folder)) in self._scanned_folders:
                        return
                    self._scanned_folders.add((section.id, path_key(folder)))
                    self.rt.plex.scan_folder(section.id, folder)
                    log.info("Asked Plex to scan %s for scene %s", folder, scene.get("id"))
                    return

    def _defer_transient(self, token: str, claim: Claim, exc: PlexUnavailable) -> str:
        attempt = claim.attempts + 1
        delay_s = max(backoff.transient_delay_s(attempt), exc.retry_after_s or 0.0)
        self.store.mark_retry(token, claim.scene_id, delay_s=delay_s, error_class=type(exc).__name__, message=str(exc))
        return "waiting_for_plex"

    def _rejected(self, token: str, claim: Claim, exc: Exception) -> str:
        attempt = claim.attempts + 1
        if attempt >= self.config.max_retries:
            self.store.mark_dead(token, claim.scene_id, error_class=type(exc).__name__, message=str(exc))
            log.error("Scene %s moved to the dead-letter queue after %d attempt%s: %s", claim.scene_id, attempt,
                      "" if attempt == 1 else "s", exc,
                      extra=event("scene.dead_lettered", scene_id=claim.scene_id, error_class=type(exc).__name__,
                                  attempts=attempt))
            self._note(claim, "dead", str(exc))
        else:
            self.store.mark_retry(token, claim.scene_id, delay_s=backoff.rejected_delay_s(attempt),
                                  error_class=type(exc).__name__, message=str(exc))
            log.warning("Scene %s failed (attempt %d of %d), tried again later: %s", claim.scene_id, attempt,
                        self.config.max_retries, exc, extra=event("scene.failed", scene_id=claim.scene_id,
                                                                   error_class=type(exc).__name__, attempts=attempt))
        return "failed"
