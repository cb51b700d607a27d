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
from validation.stash_log import get_logger
from worker import backoff
from worker.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from worker.engine import BatchReport, SyncEngine
from worker.lease import Lease
from worker.pauses import Pause, clear_pause, current_pause, set_pause
from worker.stash_reader import StashError

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
    retry_at: float | None = None


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
            runtime.store.postpone_fanout(kind, object_id, backoff.stash_delay(attempts + 1), str(exc))
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


def _record_stats(runtime, report: BatchReport, seconds: float, requests: int) -> None:
    store = runtime.store
    with store.transaction():
        stats = store.get_json(STATS_KEY, {}) or {}
        stats["plex_requests"] = stats.get("plex_requests", 0) + requests
        stats["synced_total"] = stats.get("synced_total", 0) + report.succeeded + report.unchanged
        if report.succeeded or report.unchanged:
            stats["last_sync_at"] = time.time()
        if report.processed:
            per_scene = seconds / report.processed
            previous = stats.get("avg_scene_seconds")
            stats["avg_scene_seconds"] = per_scene if previous is None else (
                (1 - EWMA_WEIGHT) * previous + EWMA_WEIGHT * per_scene)
        store.set_json(STATS_KEY, stats)


def _breaker_allows(runtime, breaker: Breaker, result: DrainResult) -> bool:
    state = breaker.state()
    if state == CLOSED:
        return True
    if state == OPEN:
        result.stopped, result.retry_at = "outage", breaker.retry_at()
        result.message = "Plex circuit is open; waiting before the next try"
        return False
    assert state == HALF_OPEN
    problem = probe_plex(runtime)
    if problem is None:
        log.info("Plex answers again: circuit closed")
        return True
    result.stopped, result.retry_at, result.message = "outage", breaker.retry_at(), problem
    return False


def drain(runtime, engine: SyncEngine, lease: Lease, *, deadline: float | None = None,
          progress: ProgressFn | None = None) -> DrainResult:
    """Sync ready work until none is ready, the budget ends (``deadline`` on the monotonic clock), the lease
    goes, or Plex/Stash stop us."""
    store, result = runtime.store, DrainResult()
    breaker = Breaker(store)
    while True:
        if lease.lost.is_set() or store.handoff_requested(lease.token):
            result.stopped = "lease"
            return result
        store.absorb_intake(runtime.config.settle_seconds)
        expand_fanouts(runtime)
        pause = current_pause(store)
        if pause and pause.get("kind") in ("auth", "config"):
            result.stopped, result.message = pause["kind"], pause.get("message", "")
            return result
        if not _breaker_allows(runtime, breaker, result):
            return result
        claims = store.claim_batch(lease.token, BATCH_SIZE)
        if not claims:
            return result
        started, requests_before = time.monotonic(), runtime.plex_requests()
        try:
            report = engine.sync_batch(lease.token, claims)
        except Pause as pause_exc:
            report = pause_exc.report or BatchReport()
            result.stopped, result.message, result.retry_at = pause_exc.kind, pause_exc.message, pause_exc.retry_after
            log.warning("Stopped: %s", pause_exc.message)
        result.report.add(report)
        _record_stats(runtime, report, time.monotonic() - started, runtime.plex_requests() - requests_before)
        if progress is not None:
            progress(result.report)
        if result.stopped != "idle":
            return result
        if runtime.stash is not None:
            runtime.stash.ensure_fresh_auth()
        if deadline is not None and time.monotonic() >= deadline:
            result.stopped = "budget"
            return result


def next_wake_time(runtime, result: DrainResult) -> float | None:
    """When the worker should look again. While the circuit is open only its retry time matters:
    due scenes can't be synced before it, and waking for them would spin."""
    if result.stopped == "outage":
        return result.retry_at if result.retry_at is not None else time.time() + backoff.TRANSIENT_BASE
    return runtime.store.next_due_at()
