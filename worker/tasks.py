"""Task handlers: the Stash Tasks page and the command line both end here.

Queue-only tasks (status, clear, retry, purge) touch nothing but the store. Sync tasks run the drain
loop in the foreground with progress and an ETA, within a dynamic budget, then hand any rest to the
detached worker so Stash's one-job-at-a-time queue is never held for long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from sync_queue.launcher import ensure_worker
from sync_queue.store import Store
from validation.stash_log import get_logger
from worker.breaker import Breaker
from worker.pauses import WORKER_FAILURE_KEY, stash_failures

log = get_logger("tasks")

QUEUE_TASKS = ("status", "clear_queue", "clear_dlq", "purge_dlq", "retry_dlq")
SYNC_TASKS = ("process_queue", "sync_all", "sync_recent", "reconcile", "health", "rebuild_index", "import_plays")
ALL_TASKS = QUEUE_TASKS + SYNC_TASKS
BACKGROUND_HORIZON_SECONDS = 15 * 60.0  # the detached worker's own horizon


@dataclass
class TaskContext:
    """Where a task runs: data dir, plugin dir, how to reach Stash, settings overrides, progress sink."""

    data_dir: Path
    plugin_dir: Path
    entry_script: Path
    server_connection: Mapping[str, Any] | None = None
    stash_url: str | None = None
    stash_api_key: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    args: Mapping[str, Any] = field(default_factory=dict)
    progress: Callable[[float], None] | None = None


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
        "intake": store.intake_size(),
        "paused": pause,
        "stash_failing": stash_failures(store),
        "worker_start_failure": store.get_json(WORKER_FAILURE_KEY, None),
        "match_methods": store.match_method_histogram(),
        "dead_letters": store.dead_letters()[-20:],
        "needs_attention": store.needing_attention(),
        "worker_log": str(store.data_dir / "logs" / "worker.log"),
    }


def _days_arg(args: Mapping[str, Any]) -> float:
    raw = args.get("days", 30)
    try:
        days = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"purge_dlq: 'days' must be a number of days, got {raw!r}") from None
    if days < 0:
        raise ValueError(f"purge_dlq: 'days' must not be negative, got {raw!r}")
    return days


def run_queue_task(mode: str, store: Store, args: Mapping[str, Any]) -> dict[str, Any]:
    if mode == "status":
        return queue_status(store)
    if mode == "clear_queue":
        dropped = store.clear_pending() + store.clear_intake()
        log.warning("Cleared %d pending jobs", dropped)
        return {"cleared": dropped}
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
    if mode in QUEUE_TASKS:
        with Store(ctx.data_dir) as store:
            return run_queue_task(mode, store, ctx.args)
    from worker.sync_tasks import run_sync_task

    return run_sync_task(mode, ctx)


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
    return run_task(mode.strip(), ctx)


def continue_in_background(ctx: TaskContext, store: Store) -> str:
    """Hand leftover work to a detached worker (Stash runs one job at a time; don't hold it)."""
    if ctx.server_connection is None:
        return "not started (no Stash connection to hand over)"
    due = store.next_due_at()
    if store.intake_size():
        due = time.time()  # hook events that arrived while the task held the lease
    if due is None or due - time.time() > BACKGROUND_HORIZON_SECONDS:
        return "not needed (nothing falls due soon; the next hook or task picks it up)"
    return ensure_worker(store, ctx.entry_script, dict(ctx.server_connection))


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
