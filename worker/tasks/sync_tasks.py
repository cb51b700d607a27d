"""Tasks that talk to Stash and Plex: process_queue, sync_all, sync_recent, reconcile, health, rebuild_index."""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable, Iterable

from plex.errors import PlexAuthError, PlexConfigError, PlexSyncError
from sync_queue.store import Store
from validation.config import ConfigError
from validation.metadata import SceneDataError
from validation.stash_log import get_logger
from worker.sync.breaker import Breaker
from worker.tasks.drift import find_plex_drift
from worker.sync.engine import SyncEngine
from worker.sync.index_refresh import refresh_index
from worker.process.lease import Lease, wait_for_free_lease
from worker.sync.loop import STATS_KEY, drain, probe_plex
from worker.tasks.path_check import check_path_map
from worker.sync.pauses import clear_pause, set_pause
from worker.artwork.performer_photos import wanted_state
from worker.viewing.plays import import_plays_task
from worker.process.runtime import Runtime, build_runtime
from worker.stash.titles import TITLES_KEY, scene_titles
from worker.tasks.setup_checklist import record_health, record_sync_all
from worker.stash.reader import StashError, StashReader, watermark_with_margin, window_start_like
from worker.tasks.context import TaskContext, continue_in_background, eta_text

log = get_logger("tasks")

WATERMARK_KEY = "sync_recent_watermark"
WATERMARK_MARGIN_S = 600
FIRST_RUN_WINDOW_S = 24 * 3600
HANDOFF_WAIT_S = 60.0
BUDGET_SAFETY = 2.0
BUDGET_SLACK_S = 60.0
COMPARE_PAGE = 1000  # Stash scenes compared with what was pushed per store read (one Stash page)
PATH_SAMPLE = 50  # newest Stash scenes whose files Health Check maps through path_map
ATTENTION_SHOWN = 20  # scenes named in a task's output as not having reached Plex


class TaskFailed(RuntimeError):
    """The task could not do its job; ``output`` still says what is known (counts, state)."""

    def __init__(self, message: str, output: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.output = output


def open_runtime(ctx: TaskContext) -> Runtime:
    if ctx.server_connection is not None:
        stash: StashReader | None = StashReader(dict(ctx.server_connection))
    elif ctx.stash_url:
        stash = StashReader.from_url(ctx.stash_url, ctx.stash_api_key)
    else:
        stash = None
    return build_runtime(ctx.data_dir, ctx.plugin_dir, stash=stash, overrides=ctx.overrides)


def require_stash(rt: Runtime) -> StashReader:
    if rt.stash is None:
        raise TaskFailed("This task needs Stash: run it from Stash, or pass --stash-url (PLEXSYNC_STASH_URL)")
    return rt.stash


def queued_text(counts: dict[str, int]) -> str:
    """'1 scene stays queued', '3 scenes and 2 performer/studio/tag/group changes stay queued': every kind of
    waiting work, in words."""
    scenes, changes = counts["pending"] + counts.get("in_progress", 0), counts["fanout_pending"]
    text = f"{scenes} scene{'' if scenes == 1 else 's'}"
    if changes:
        text += f" and {changes} performer/studio/tag/group change{'' if changes == 1 else 's'}"
    return text + (" stays queued" if scenes == 1 and not changes else " stay queued")


def probe_or_fail(rt: Runtime) -> None:
    """Plex answers and accepts the token, and the index knows what Plex added since the last run."""
    problem = probe_plex(rt)
    if problem is not None:
        holder = rt.store.lease_holder()
        counts = rt.store.status_counts(holder["token"] if holder is not None else None)
        raise TaskFailed(f"{problem}. Nothing was lost: {queued_text(counts)}.", {**counts})
    refresh_index(rt.store, rt.plex, rt.sections)


# -- the foreground drain shared by every sync task -----------------------------------------

def task_budget_s(rt: Runtime, pending: int) -> float:
    """min(max_task_minutes, remaining × measured seconds per scene), with room for variance."""
    ceiling_s = rt.config.max_task_minutes * 60.0
    avg_scene_s = (rt.store.get_json(STATS_KEY, {}) or {}).get("avg_scene_seconds")
    if not avg_scene_s or not pending:
        return ceiling_s
    return min(ceiling_s, pending * avg_scene_s * BUDGET_SAFETY + BUDGET_SLACK_S)


def _progress_reporter(ctx: TaskContext, total: int, started_mono_s: float) -> Callable[[Any], None]:
    def report(batch_report: Any) -> None:
        done = batch_report.processed
        fraction = done / max(total, done, 1)
        counted = getattr(ctx.progress, "count", None)  # a terminal bar shows count, rate and ETA too
        if counted is not None:
            counted(done, total)
        if ctx.progress is not None:
            ctx.progress(fraction)
        elapsed_s = time.monotonic() - started_mono_s
        eta_s = elapsed_s / done * max(0, total - done) if done else None
        log.info("Processed %d/%d scenes (%.0f%%), ETA %s", done, total, fraction * 100, eta_text(eta_s))

    return report


def take_over_lease(store: Store, lease: Lease, timeout_s: float = HANDOFF_WAIT_S) -> None:
    """Ask the background worker to hand over; a hook may start a new one in the gap, so ask again."""
    deadline_mono_s = time.monotonic() + timeout_s
    while not lease.acquire(store):
        remaining_s = deadline_mono_s - time.monotonic()
        if remaining_s <= 0 or not wait_for_free_lease(store, remaining_s):
            raise TaskFailed("The background worker did not hand over within a minute; try again shortly")


def foreground_drain(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    lease = Lease(lambda: Store(rt.data_dir))
    try:
        take_over_lease(rt.store, lease)
        rt.store.absorb_intake(0.0)
        total = rt.store.counts(lease.token)["pending"]
        started_mono_s = time.monotonic()
        budget_s = task_budget_s(rt, total)
        log.info("Processing %d pending scenes (budget %s)", total, eta_text(budget_s))
        result = drain(rt, SyncEngine(rt), lease, deadline_mono_s=started_mono_s + budget_s,
                       progress=_progress_reporter(ctx, total, started_mono_s))
    finally:
        lease.release(rt.store)
        lease.close()
    counts = rt.store.status_counts(None)  # hook events that came in meanwhile are work remaining too
    output: dict[str, Any] = {
        "processed": result.report.processed,
        "succeeded": result.report.succeeded + result.report.unchanged,
        "unchanged": result.report.unchanged,
        "failed": result.report.failed,
        "skipped": result.report.skipped,
        "waiting_for_plex": result.report.waiting_for_plex,
        "remaining": counts["pending"],
        "fanout_pending": counts["fanout_pending"],
        "dead": counts["dead"],
        "attention": result.report.attention[:ATTENTION_SHOWN],
        "stopped": result.stopped,
        "seconds": round(time.monotonic() - started_mono_s, 2),
        "run_stats": rt.store.run_stats(lease.token),
    }
    if result.message:
        output["message"] = result.message
    named = [entry["scene_id"] for entry in output["attention"] if entry["state"] != "waiting_for_plex"]
    if named:  # the summary names these scenes: by title, from one Stash request
        output[TITLES_KEY] = scene_titles(rt.stash, named)
    if result.stopped not in ("auth", "config") and rt.store.has_work():
        output["background_worker"] = continue_in_background(ctx, rt.store)
    if ctx.progress is not None:
        ctx.progress(1.0)
    return output


# -- what to queue ---------------------------------------------------------------------------

def differing_scene_ids(rt: Runtime, scenes: Iterable[dict[str, Any]]) -> tuple[list[int], int]:
    """Scenes whose wanted Plex state differs from what we last pushed (no Plex request); the store is asked a
    page of scenes at a time, so a 100,000-scene library is never held whole."""
    changed, seen, iterator = [], 0, iter(scenes)
    while page := list(itertools.islice(iterator, COMPARE_PAGE)):
        seen += len(page)
        pushed = rt.store.fingerprints(int(scene["id"]) for scene in page)
        for scene in page:
            scene_id = int(scene["id"])
            try:
                fingerprint = wanted_state(scene, rt.config, rt.stash).fingerprint()
            except SceneDataError:
                fingerprint = None  # queue it: the worker dead-letters it with the reason
            if fingerprint is None or pushed.get(scene_id) != fingerprint:
                changed.append(scene_id)
    return changed, seen


def process_queue(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    require_stash(rt)  # scenes are read from Stash at sync time, never from stale copies
    probe_or_fail(rt)  # "try now": Plex answered, so every backed-off job gets its chance
    Breaker(rt.store).force_close()
    rt.store.make_all_due()
    return foreground_drain(rt, ctx)


def sync_all(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    stash = require_stash(rt)
    probe_or_fail(rt)
    changed, seen = differing_scene_ids(rt, stash.iter_scenes(per_page=1000, read_ahead=True))
    rt.store.queue_scenes(changed)
    log.info("Sync All: %d of %d scenes differ from what Plex was last given", len(changed), seen)
    output = {**foreground_drain(rt, ctx), "scanned": seen, "queued": len(changed)}
    record_sync_all(rt.store, output)  # the page's setup checklist ticks "first Sync All done"
    return output


def _first_run_watermark(stash: StashReader) -> str | None:
    newest = next(iter(stash.iter_scenes(per_page=1, newest_first=True)), None)
    if newest is None:
        return None
    return window_start_like(newest["updated_at"], FIRST_RUN_WINDOW_S)


def sync_recent(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    stash = require_stash(rt)
    probe_or_fail(rt)
    mark_text = rt.store.get_json(WATERMARK_KEY, None)
    since_text = watermark_with_margin(mark_text, WATERMARK_MARGIN_S) if mark_text else _first_run_watermark(stash)
    scenes = list(stash.iter_scenes(updated_after_text=since_text)) if since_text is not None else []
    changed, seen = differing_scene_ids(rt, scenes)
    rt.store.queue_scenes(changed)
    if scenes:
        rt.store.set_json(WATERMARK_KEY, max(scene["updated_at"] for scene in scenes))
    return {**foreground_drain(rt, ctx), "scanned": seen, "queued": len(changed), "since": since_text}


def _plex_side_drift(rt: Runtime) -> list[int]:
    """Linked scenes whose Plex item is gone, or whose synced fields someone changed in Plex. The changed
    fields are dropped from the push record so the next push writes them again."""
    drift = find_plex_drift(rt)
    for scene_id, record in drift.repush.items():
        rt.store.force_repush(scene_id, record)
    for scene_id in drift.gone:
        rt.store.forget_link(scene_id)
    return list(drift.repush) + drift.gone


def reconcile(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    stash = require_stash(rt)
    probe_or_fail(rt)
    refresh_index(rt.store, rt.plex, rt.sections, full=True)
    changed, seen = differing_scene_ids(rt, stash.iter_scenes(per_page=1000, read_ahead=True))
    drifted: list[int] = []
    if not rt.config.preserve_plex_edits:  # with it on, Plex-side edits are the user's to keep
        drifted = _plex_side_drift(rt)
    rt.store.queue_scenes(set(changed) | set(drifted))
    log.info("Reconcile: %d scenes differ in Stash, %d drifted or vanished in Plex", len(changed), len(drifted))
    return {**foreground_drain(rt, ctx), "scanned": seen, "stash_drift": len(changed), "plex_drift": len(drifted)}


def health(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    breaker = Breaker(rt.store)
    try:
        identity = rt.plex.probe()
        sections = rt.sections
    except PlexAuthError as exc:
        set_pause(rt.store, "auth", str(exc), rt.config)
        raise _health_failed(rt, str(exc), "unauthorized", breaker) from exc
    except PlexConfigError as exc:
        raise _health_failed(rt, str(exc), "misconfigured", breaker) from exc
    except PlexSyncError as exc:
        raise _health_failed(rt, f"Plex is not reachable at {rt.config.plex_url}: {exc}", "unreachable",
                             breaker) from exc
    clear_pause(rt.store)
    breaker.record_success()
    path_map = _path_map_check(rt, sections)
    output = {  # work held by the pause this check just lifted goes on now
        "background_worker": continue_in_background(ctx, rt.store),
        "plex": "ok",
        "server": identity,
        "token": "accepted",
        "libraries": [{"id": s.id, "title": s.title, "locations": list(s.locations),
                       "indexed_files": rt.store.index_size(s.id)} for s in sections],
        "circuit": breaker.state(),
        "stash": "ok" if rt.stash is not None else "not configured",
        "path_map": path_map,
        # what needs the user: settings warnings, and a path map that would leave scenes unmatched
        "warnings": rt.warnings + [f"Path map: {problem}" for problem in (path_map or {}).get("problems") or []],
    }
    record_health(rt.store, {key: output[key] for key in ("plex", "libraries", "stash", "path_map")})
    return output


def _health_failed(rt: Runtime, message: str, plex: str, breaker: Breaker) -> TaskFailed:
    """What the page's setup checklist shows until the next Health Check, and the task's error."""
    record_health(rt.store, {"plex": plex, "message": message})
    return TaskFailed(message, {"plex": plex, "circuit": breaker.state()})


def _path_map_check(rt: Runtime, sections: Iterable[Any]) -> dict[str, Any] | None:
    """path_map against Plex's folders and the newest Stash scenes' files (one Stash request)."""
    if rt.stash is None:
        return None
    try:
        scenes = list(itertools.islice(rt.stash.iter_scenes(per_page=PATH_SAMPLE, newest_first=True), PATH_SAMPLE))
    except StashError as exc:
        return {"sampled": 0, "problems": [], "error": str(exc)}
    paths = [file["path"] for scene in scenes for file in scene.get("files") or [] if file.get("path")]
    return check_path_map(rt.config.path_rules, [folder for s in sections for folder in s.locations], paths)


def rebuild_index(rt: Runtime, ctx: TaskContext) -> dict[str, Any]:
    probe_or_fail(rt)
    forgotten = rt.store.forget_all_links()
    listed = refresh_index(rt.store, rt.plex, rt.sections, full=True)
    return {"forgotten_links": forgotten, "indexed_files": listed,
            "libraries": [section.title for section in rt.sections]}


HANDLERS: dict[str, Callable[[Runtime, TaskContext], dict[str, Any]]] = {
    "process_queue": process_queue,
    "sync_all": sync_all,
    "sync_recent": sync_recent,
    "reconcile": reconcile,
    "health": health,
    "rebuild_index": rebuild_index,
    "import_plays": import_plays_task,
}


def run_sync_task(mode: str, ctx: TaskContext) -> dict[str, Any]:
    try:
        rt = open_runtime(ctx)
    except ConfigError as exc:
        if mode == "health":  # settings Plex can't even be asked with: the page's checklist says so too
            with Store(ctx.data_dir) as store:
                record_health(store, {"plex": "settings", "message": str(exc)})
        raise
    try:
        if not rt.config.enabled and mode != "health":
            counts = rt.store.status_counts(None)
            return {"skipped": "syncing is paused in PlexSync's settings (Pause syncing)", "processed": 0, "succeeded": 0,
                    "failed": 0, "skipped_scenes": 0, "remaining": counts["pending"],
                    "fanout_pending": counts["fanout_pending"]}
        return HANDLERS[mode](rt, ctx)
    finally:
        rt.close()
