"""Task handlers: the Stash Tasks page and the command line both end here; queue-only tasks touch nothing but
the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from sync_queue.notices import take_notice
from sync_queue.schema import KV_PHOTOS_BLOCKED, KV_STORE_RESET, KV_WORKER_NOTICES
from sync_queue.store import Store
from validation.stash_log import event, get_logger
from worker.sync.breaker import Breaker
from worker.sync.pauses import WORKER_FAILURE_KEY, stash_failures
from worker.stash.titles import TITLES_KEY, titles_for_task
from worker.tasks.context import TaskContext
from worker.tasks.summary import named_scene_ids, summary_lines

log = get_logger("tasks")

QUEUE_TASKS = ("status", "clear_queue", "clear_dlq", "purge_dlq", "retry_dlq")
SYNC_TASKS = ("process_queue", "sync_all", "sync_recent", "reconcile", "health", "rebuild_index", "import_plays")
PREVIEW_TASK = "preview"  # worker.tasks.preview: a dry run, nothing written
GAPS_TASK = "gaps"  # worker.tasks.gaps: what one side has and the other lacks; reads only
ALL_TASKS = QUEUE_TASKS + SYNC_TASKS + (PREVIEW_TASK, GAPS_TASK)


def queue_status(store: Store) -> dict[str, Any]:
    """Read-only: hook events no worker absorbed yet count as pending scenes too (each scene once)."""
    holder = store.lease_holder()
    counts = store.status_counts(holder["token"] if holder is not None else None)
    stats = store.get_json("stats", {}) or {}
    breaker = Breaker(store).snapshot()
    pause = store.get_json("pause", None)
    return {
        **counts,
        "circuit": breaker["state"],
        "circuit_retry_at": breaker.get("retry_at"),
        "worker_running": holder is not None,
        "last_sync_at": stats.get("last_sync_at"),
        "plex_requests": int(stats.get("plex_requests", 0)),
        "avg_scene_seconds": stats.get("avg_scene_seconds"),
        "paused": pause,
        "stash_failing": stash_failures(store),
        "worker_start_failure": store.get_json(WORKER_FAILURE_KEY, None),
        "store_reset": store.get_json(KV_STORE_RESET, None),
        "performer_photos": store.get_json(KV_PHOTOS_BLOCKED, None),
        "match_methods": store.match_method_histogram(),
        "stats": store.sync_stats(),
        "dead_letters": store.dead_letters()[-20:],
        "needs_attention": store.needing_attention(),
        "in_backoff": store.count_in_backoff(),
        "worker_log": str(store.data_dir / "logs" / "worker.log"),
    }


def _days_arg(args: Mapping[str, Any]) -> float:
    raw = args.get("days", 30)
    try:
        days = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"purge_dlq: 'days' must be a number of days, got {raw!r}") from None
    if not 0 <= days < float("inf"):  # NaN too: it would purge nothing and print NaN, which is not JSON
        raise ValueError(f"purge_dlq: 'days' must be a finite number, not negative, got {raw!r}")
    return days


def run_queue_task(mode: str, store: Store, args: Mapping[str, Any]) -> dict[str, Any]:
    if mode == "status":
        return queue_status(store)
    if mode == "clear_queue":
        return {"cleared": store.clear_pending() + store.clear_intake()}
    if mode == "clear_dlq":
        return {"cleared": store.clear_dead_letters()}
    if mode == "purge_dlq":
        days = _days_arg(args)
        return {"purged": store.purge_dead_letters(days), "older_than_days": days}
    if mode == "retry_dlq":
        return {"requeued": store.retry_dead_letters()}
    raise ValueError(f"unknown queue task {mode!r}")


def run_task(mode: str, ctx: TaskContext) -> dict[str, Any]:
    if mode not in ALL_TASKS:
        raise ValueError(f"Unknown task mode {mode!r}; expected one of: {', '.join(ALL_TASKS)}")
    with Store(ctx.data_dir) as store:
        reset = store.store_reset_to_announce()
        if reset:
            log.warning(reset)
        output = run_queue_task(mode, store, ctx.args) if mode in QUEUE_TASKS else None
    if output is not None:
        if mode == "status":  # the scenes it names, by title: one Stash request, and only when it names any
            output[TITLES_KEY] = titles_for_task(ctx.server_connection, ctx.stash_url, ctx.stash_api_key,
                                                 named_scene_ids(output))
        return output
    if mode == PREVIEW_TASK:
        from worker.tasks.preview import run_preview

        return run_preview(ctx)
    if mode == GAPS_TASK:
        from worker.tasks.gaps import run_gaps

        return run_gaps(ctx)
    from worker.tasks.sync_tasks import run_sync_task  # plexapi and stashapi: only the tasks that need them load them

    return run_sync_task(mode, ctx)


def announce_worker_notice(data_dir: Path) -> None:
    """What the background worker noted since the last hook or task (it has no Stash stderr), shown once."""
    with Store(data_dir) as store:
        notice = take_notice(store, store.get_raw_values(KV_WORKER_NOTICES).get(KV_WORKER_NOTICES))
    if notice:
        log.warning(notice)


def run_stash_task(payload: Mapping[str, Any], data_dir: Path, entry_script: Path) -> dict[str, Any]:
    """A task started from Stash: ``args.mode`` names it (Stash sends defaultArgs as strings)."""
    args = payload["args"]
    mode = args.get("mode")
    if not isinstance(mode, str) or not mode.strip():
        raise ValueError(f"Task without a mode; expected args.mode to be one of: {', '.join(ALL_TASKS)}")
    from validation.stash_log import progress

    ctx = TaskContext(
        data_dir=data_dir,
        plugin_dir=entry_script.parent,
        entry_script=entry_script,
        server_connection=payload.get("server_connection"),
        args=args,
        progress=progress,
    )
    announce_worker_notice(data_dir)
    output = run_task(mode.strip(), ctx)
    lines = summary_lines(mode.strip(), output)
    for number, line in enumerate(lines, 1):  # Stash shows a task's output only at Debug
        log.info(line, extra=event("task.finished", mode=mode.strip()) if number == len(lines) else None)
    return output
