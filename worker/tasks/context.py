"""What every task shares: where it runs (:class:`TaskContext`), handing leftovers to the background worker,
and how an ETA reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from sync_queue.intake.launcher import ensure_worker
from sync_queue.store import Store

BACKGROUND_HORIZON_S = 15 * 60.0  # the detached worker's own horizon
HANDOFF_SETTINGS = "PlexSyncSettings"  # in a hand-over's connection: settings given on the command line


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


def continue_in_background(ctx: TaskContext, store: Store) -> str:
    """Hand leftover work to a detached worker (Stash runs one job at a time; don't hold it)."""
    if not store.has_work():
        return "not needed (nothing left to do)"
    connection = handoff_connection(ctx)
    if connection is None:
        return "not started (without a Stash connection nothing can sync: pass --stash-url)"
    due_s = store.next_due_s()
    if store.status_counts(None)["intake"]:
        due_s = time.time()  # hook events that arrived while the task held the lease
    if due_s is None or due_s - time.time() > BACKGROUND_HORIZON_S:
        return "not needed (nothing falls due soon; the next hook or task picks it up)"
    return ensure_worker(store, ctx.entry_script, connection)


def handoff_connection(ctx: TaskContext) -> dict[str, Any] | None:
    """What the background worker gets on its stdin: Stash's connection, or on the command line one made from
    --stash-url, with the settings the command line was given (flags, PLEXSYNC_* variables) riding along so the
    worker syncs with the same ones. Secrets travel on the child's stdin only, never in argv or on disk."""
    if ctx.server_connection is not None:
        return dict(ctx.server_connection)
    if not ctx.stash_url:
        return None
    from worker.stash.reader import connection_from_url

    connection = connection_from_url(ctx.stash_url, ctx.stash_api_key)
    if ctx.overrides:
        connection[HANDOFF_SETTINGS] = dict(ctx.overrides)
    return connection


def eta_text(span_s: float | None, unknown: str = "unknown") -> str:
    """A span as ``1h05m`` or ``4m07s`` (log lines and the terminal's progress line)."""
    if span_s is None:
        return unknown
    whole_s = int(max(0, span_s))
    return f"{whole_s // 3600}h{whole_s % 3600 // 60:02d}m" if whole_s >= 3600 else f"{whole_s // 60}m{whole_s % 60:02d}s"
