"""The drain loop: absorb intake, expand fan-outs, claim a batch, sync it, repeat until idle or told to stop.

One function serves both the detached worker (sleeps until the next due time) and foreground tasks
(stop at a budget, report progress). Nothing here spins: when nothing is due the caller sleeps until the
earliest ``not_before`` or until a hook wakes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from plex.errors import PlexAuthError, PlexConfigError, PlexSyncError
from validation.stash_log import event, get_logger
from worker.sync import backoff
from worker.sync.batch import BatchReport, StartedBatch
from worker.sync.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from worker.sync.engine import SyncEngine
from worker.process.lease import Lease
from worker.sync.pauses import Pause, clear_pause, current_pause, set_pause
from worker.stash.reader import StashError

BATCH_SIZE = 50
# Changes to these reach Plex fields (actors; studio and its collections; genres). A group's name reaches Plex
# only with group_collections on; otherwise a Group.Update.Post marker is dropped without reading its scenes.
SYNCED_FANOUT_KINDS = ("performer", "studio", "tag")
STATS_KEY = "stats"
EWMA_WEIGHT = 0.2

log = get_logger("loop")

ProgressFn = Callable[[BatchReport], None]


@dataclass
class DrainResult:
    report: BatchReport = field(default_factory=BatchReport)
    stopped: str = "idle"  # idle | budget | lease | auth | config | outage | stash | disabled
    message: str = ""
    retry_at_s: float | None = None


def synced_fanout_kinds(config) -> tuple[str, ...]:
    """Groups reach Plex only as collections, so a group change re-reads its scenes only with those on."""
    if config.group_collections and config.sync_collections:
        return (*SYNCED_FANOUT_KINDS, "group")
    return SYNCED_FANOUT_KINDS


def expand_fanouts(runtime) -> int:
    """Turn due performer/studio/tag/group markers into the scenes that carry them."""
    queued = 0
    if runtime.stash is None:
        return 0  # markers wait for a run that can reach Stash
    for kind, object_id, attempts in runtime.store.due_fanouts():
        if kind not in synced_fanout_kinds(runtime.config):
            runtime.store.expand_fanout(kind, object_id, [])  # nothing of it reaches Plex: no scene to re-read
            continue
        try:
            scene_ids = runtime.stash.scene_ids_for(kind, object_id)
        except StashError as exc:
            runtime.store.postpone_fanout(kind, object_id, backoff.stash_delay_s(attempts + 1), str(exc))
            continue
        queued += runtime.store.expand_fanout(kind, object_id, scene_ids)
        log.info("%s %s changed: queued its %d scenes", kind.capitalize(), object_id, len(scene_ids))
    return queued


def probe_plex(runtime) -> str | None:
    """One request to /identity; None when Plex answers, else why not. Clears or sets pauses/breaker."""
    breaker = Breaker(runtime.store)
    try:
        runtime.plex.probe()
        runtime.sections  # a missing library is a configuration problem, found here once
    except PlexAuthError as exc:
        set_pause(runtime.store, "auth", str(exc), runtime.config)
        return str(exc)  # already says what happened and what to check, once
    except PlexConfigError as exc:
        set_pause(runtime.store, "config", str(exc))
        return str(exc)
    except PlexSyncError as exc:
        breaker.record_failure(str(exc))
        return f"Plex is not reachable at {runtime.config.plex_url}: {exc}"
    clear_pause(runtime.store)
    breaker.record_success()
    return None


def _record_stats(runtime, report: BatchReport, elapsed_s: float, requests: int, token: str) -> None:
    store = runtime.store
    with store.transaction():
        if report.processed:
            store.record_scene_seconds(token, elapsed_s / report.processed, report.processed)
        stats = store.get_json(STATS_KEY, {}) or {}
        stats["plex_requests"] = stats.get("plex_requests", 0) + requests
        stats["synced_total"] = stats.get("synced_total", 0) + report.succeeded + report.unchanged
        if report.succeeded or report.unchanged:
            stats["last_sync_at"] = time.time()
        if report.processed:
            per_scene_s = elapsed_s / report.processed
            previous_s = stats.get("avg_scene_seconds")
            stats["avg_scene_seconds"] = per_scene_s if previous_s is None else (
                (1 - EWMA_WEIGHT) * previous_s + EWMA_WEIGHT * per_scene_s)
        store.set_json(STATS_KEY, stats)


def _breaker_allows(runtime, breaker: Breaker, result: DrainResult) -> bool:
    state = breaker.state()
    if state == CLOSED:
        return True
    if state == OPEN:
        result.stopped, result.retry_at_s = "outage", breaker.retry_at_s()
        result.message = "Plex circuit is open; waiting before the next try"
        return False
    assert state == HALF_OPEN
    problem = probe_plex(runtime)
    if problem is None:
        log.info("Plex answers again: circuit closed")
        return True
    result.stopped, result.retry_at_s, result.message = "outage", breaker.retry_at_s(), problem
    return False


def drain(runtime, engine: SyncEngine, lease: Lease, *, deadline_mono_s: float | None = None,
          progress: ProgressFn | None = None) -> DrainResult:
    """Sync ready work until none is ready, the budget ends (``deadline_mono_s``), the lease
    goes, or Plex/Stash stop us.

    Batches overlap so Plex never waits for our batch boundary: the next batch is claimed, read from Stash,
    prepared and its pushes queued while the current batch's last pushes are still in flight. Outcomes are
    still recorded on this thread, one batch after the other, each in claim order; a batch claimed before a
    stop is finished (its pushes not yet started are given back untouched)."""
    result = DrainResult()
    breaker = Breaker(runtime.store)
    in_flight: StartedBatch | None = None
    mark = (time.monotonic(), runtime.plex_requests())  # stats cover the wall time since the last batch ended
    started_any = False
    try:
        while True:
            following = _start_next(runtime, engine, lease, breaker, result, deadline_mono_s, started_any)
            started_any = started_any or following is not None
            if in_flight is not None:
                try:
                    report = engine.finish_batch(lease.token, in_flight)
                except Pause as pause_exc:
                    report = _stop(engine, result, pause_exc)
                mark = _account(runtime, result, report, mark, progress, lease.token)
            elif following is None:
                return result
            in_flight = following
    finally:
        engine.pushes.close()  # after an unexpected error: in-flight pushes end; their claims return with the lease


def _start_next(runtime, engine: SyncEngine, lease: Lease, breaker: Breaker, result: DrainResult,
                deadline_mono_s: float | None, started_any: bool) -> StartedBatch | None:
    """Claim and start the next batch, or None when nothing is ready or something says stop (in ``result``)."""
    store = runtime.store
    if result.stopped != "idle":
        return None
    if started_any:
        if runtime.stash is not None:
            runtime.stash.ensure_fresh_auth()
        if deadline_mono_s is not None and time.monotonic() >= deadline_mono_s:
            result.stopped = "budget"
            return None
    if lease.lost.is_set() or store.handoff_requested(lease.token):
        result.stopped = "lease"
        return None
    store.absorb_intake(runtime.config.settle_seconds)
    expand_fanouts(runtime)
    pause = current_pause(store)
    if pause and pause.get("kind") in ("auth", "config"):
        result.stopped, result.message = pause["kind"], pause.get("message", "")
        return None
    if not _breaker_allows(runtime, breaker, result):
        return None
    claims = store.claim_batch(lease.token, BATCH_SIZE)
    if not claims:
        return None
    try:
        return engine.start_batch(lease.token, claims)
    except Pause as pause_exc:
        result.report.add(_stop(engine, result, pause_exc))
        return None


def _stop(engine: SyncEngine, result: DrainResult, pause_exc: Pause) -> BatchReport:
    """A pause ends the drain (the first reason is kept); pushes not started yet are given back."""
    engine.pushes.halt()
    if result.stopped == "idle":
        result.stopped, result.message, result.retry_at_s = pause_exc.kind, pause_exc.message, pause_exc.retry_after_s
        log.warning("Stopped: %s", pause_exc.message, extra=event("queue.paused", kind=pause_exc.kind))
    return pause_exc.report or BatchReport()


def _account(runtime, result: DrainResult, report: BatchReport, mark: tuple[float, int],
             progress: ProgressFn | None, token: str) -> tuple[float, int]:
    """Add a finished batch to the totals and the stats (the wall time and requests since the previous one)."""
    now_mono_s, requests = time.monotonic(), runtime.plex_requests()
    result.report.add(report)
    _record_stats(runtime, report, now_mono_s - mark[0], requests - mark[1], token)
    if progress is not None:
        progress(result.report)
    return now_mono_s, requests


def next_wake_s(runtime, result: DrainResult) -> float | None:
    """When the worker should look again. While the circuit is open only its retry time matters:
    due scenes can't be synced before it, and waking for them would spin."""
    if result.stopped == "outage":
        return result.retry_at_s if result.retry_at_s is not None else time.time() + backoff.TRANSIENT_BASE_S
    return runtime.store.next_due_s()
