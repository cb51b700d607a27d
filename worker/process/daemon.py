"""The detached worker a hook starts: drain, sleep until the next due time (a hook's datagram wakes it early),
exit when idle.

Its log goes to ``<data>/logs/worker.log``: Stash no longer reads its stderr (it must not hold Stash's pipes).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from sync_queue.notices import add_notice
from sync_queue.schema import KV_SETTINGS_CACHE, KV_SPAWN_PAUSE
from sync_queue.store import Store
from validation import stash_log
from validation.dependencies import ensure_requirements
from validation.settings.names import mention
from worker.process.lease import Lease
from worker.sync.pauses import (AUTH_RECHECK_S, WORKER_FAILURE_KEY, current_pause, hold_spawns,
                           settings_unchanged_since_pause, stash_failures)

IDLE_HORIZON_S = 15 * 60.0
SETTINGS_REFRESH_S = 30.0  # a long-lived worker picks up edits to PlexSync's settings this soon
START_FAILURE_QUIET_S = 60.0  # after a worker could not start, hooks only queue for this long
STASH_GIVE_UP_FAILURES = 6  # ~10 min of growing backoff (10, 20, 40, 80, 160, 300 s)
LOG_MAX_BYTES = 2 * 1024 * 1024

log = stash_log.get_logger("worker")


def open_log_file(data_dir: Path):
    """Append to logs/worker.log, keeping one previous file when it grows past LOG_MAX_BYTES."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "worker.log"
    if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
        try:
            os.replace(path, folder / "worker.log.1")
        except OSError:
            pass  # Windows: a worker that is just exiting still has it open; rotate next time
    return open(path, "a", encoding="utf-8")


def read_handoff(stream) -> dict[str, Any]:
    handoff = json.loads(stream.read() or b"{}")
    if not isinstance(handoff, dict) or not handoff.get("data_dir"):
        raise ValueError("worker started without its hand-off (data_dir, lease token, Stash connection)")
    return handoff


def stash_gone(store: Store) -> bool:
    failing = stash_failures(store)
    return failing is not None and failing.get("count", 0) >= STASH_GIVE_UP_FAILURES


def serve(runtime, lease: Lease) -> str:
    """Drain until idle beyond the horizon; returns why it stopped."""
    from worker.sync.engine import SyncEngine
    from worker.sync.loop import drain, next_wake_s
    from worker.viewing.plays import import_plays_if_due

    engine = SyncEngine(runtime)
    store = runtime.store
    while True:
        if runtime.refresh_settings(max_age_s=SETTINGS_REFRESH_S):
            if not runtime.config.enabled:
                return "disabled"
            engine = SyncEngine(runtime)  # it holds the path map, matching rules and field toggles
        # Drain in slices so a long backlog still sees settings changes (a "budget" stop just loops).
        result = drain(runtime, engine, lease, deadline_mono_s=time.monotonic() + SETTINGS_REFRESH_S)
        import_plays_if_due(runtime)  # Plex plays → Stash, at most every import_plays_minutes (worker/viewing/plays.py)
        if result.report.processed:
            log.info("Batch done: %s", result.report.as_dict())
        note_outcomes(store, result)
        if result.stopped in ("lease", "auth", "config"):
            return result.stopped
        if result.stopped == "stash" and stash_gone(store):
            # Stash must be up to fire the next hook; polling a stopped Stash forever helps nobody.
            log.warning("Stash has not answered for a while; the worker exits and the next hook or task resumes")
            add_notice(store, problem="Stash stopped answering the background worker; it resumes with the next "
                                      "hook or task")
            return "stash"
        wake_at_s = next_wake_s(runtime, result)
        if store.intake_size():
            continue
        now_s = time.time()
        if wake_at_s is None or wake_at_s - now_s > IDLE_HORIZON_S:
            lease.release(store)
            # A hook that saw our lease just before we let go only woke us; don't strand its event.
            if store.intake_size() and lease.acquire(store):
                continue
            return "idle"
        if wake_at_s > now_s:
            lease.wait_for_wake(wake_at_s - now_s)


def run_detached(handoff: Mapping[str, Any], plugin_dir: Path) -> int:
    data_dir = Path(handoff["data_dir"])
    log_file = open_log_file(data_dir)
    store = Store(data_dir)
    # worker.log follows log_format from its first line: the last settings read are cached in the store
    # (the settings read below re-applies it, should it have changed since).
    stash_log.configure(plain_file=log_file, json_format=cached_log_format(store) == "json")
    lease = Lease(lambda: Store(data_dir), handoff.get("lease_token"))
    try:
        store.verify_integrity()  # reads the whole file: once per worker, never in a hook
        try:
            ensure_requirements(plugin_dir, data_dir, automatic=True)  # a missing package is installed here
        except ModuleNotFoundError as exc:
            record_start_failure(store, exc, plugin_dir)
            return 1
        if not lease.acquire(store):
            log.info("Another worker holds the lease; exiting")
            return 0
        try:
            runtime = start_runtime(handoff, data_dir, plugin_dir, log_file, store)
        except Exception as exc:
            record_start_failure(store, exc, plugin_dir)
            return 1
        if not runtime.config.enabled:
            log.info("PlexSync is disabled; the queue is kept for later")
            return 0
        if still_paused(runtime):
            return 0
        stopped = serve(runtime, lease)
        log.info("Worker exits (%s)", stopped)
        return 0
    except Exception:
        log.error("Worker stopped by an error; the queue is intact and resumes on the next run", exc_info=True)
        return 1
    finally:
        lease.release(store)
        lease.close()
        store.close()
        log_file.close()


def cached_log_format(store: Store) -> str:
    try:
        return str((store.get_json(KV_SETTINGS_CACHE, None) or {}).get("log_format", "text"))
    except Exception:  # a damaged or locked store is reported by what follows, in the default format
        return "text"


def still_paused(runtime) -> bool:
    """A paused queue stays paused unless Plex now accepts the settings. After a rejected token Plex is asked
    again only when the URL or token changed (a worker starts for that on the next edit)."""
    from worker.sync.loop import probe_plex

    pause = current_pause(runtime.store)
    if not pause:
        return False
    if settings_unchanged_since_pause(pause, runtime.config):
        log.info("Still paused, and the Plex URL and token are unchanged: %s", pause.get("message"))
        hold_spawns(runtime.store, AUTH_RECHECK_S)
        return True
    if probe_plex(runtime) is not None:
        log.warning("Still paused: %s", current_pause(runtime.store))
        return True
    log.info("Plex accepts the settings now; the paused queue resumes")
    return False


def note_outcomes(store: Store, result) -> None:
    """What Stash's log should show on the next hook or task run (this process has no Stash stderr)."""
    attention = result.report.attention
    problem, health_check = None, False
    if result.stopped == "auth":
        problem = (f"{result.message} — fix {mention('plex_token')} or {mention('plex_url')} in PlexSync's settings; "
                   "syncing resumes by itself")
    elif result.stopped == "config":
        problem, health_check = result.message, True
    add_notice(store, dead=[entry["scene_id"] for entry in attention if entry["state"] == "dead"],
               ambiguous=[entry["scene_id"] for entry in attention if entry["state"] == "ambiguous"],
               problem=problem, needs_health_check=health_check)


def start_runtime(handoff: Mapping[str, Any], data_dir: Path, plugin_dir: Path, log_file: Any, store: Store):
    """Import the heavy half (plexapi, stashapi, pydantic) and read the settings: what can fail on a broken
    install or bad settings, after the log file is open so the reason is written down. The worker's one
    store (this thread's connection) serves the runtime too; the lease heartbeat has its own."""
    from worker.process.runtime import build_runtime
    from worker.stash.reader import StashReader
    from worker.tasks.context import HANDOFF_SETTINGS

    connection = dict(handoff["server_connection"])
    overrides = connection.pop(HANDOFF_SETTINGS, None) or {}  # a command-line run's settings (flags, variables)
    return build_runtime(data_dir, plugin_dir, stash=StashReader(connection), overrides=overrides,
                         log_file=log_file, store=store)


def record_start_failure(store: Store, exc: Exception, plugin_dir: Path) -> None:
    """Say why in the log and in ``status``, and keep hooks from spawning a doomed worker per save."""
    if isinstance(exc, ModuleNotFoundError):
        from validation.dependencies import explain_missing

        message = explain_missing(exc, plugin_dir)
    else:
        message = stash_log.redact(f"{type(exc).__name__}: {exc}")
    log.error("The background worker could not start: %s", message,
              exc_info=not isinstance(exc, (ModuleNotFoundError, ValueError)))
    with store.transaction():
        store.set_json(WORKER_FAILURE_KEY, {"at": time.time(), "message": message[:2000]})
        store.set_json(KV_SPAWN_PAUSE, time.time() + START_FAILURE_QUIET_S)
        add_notice(store, problem=f"it could not start: {message[:500]}")


def main(plugin_dir: Path) -> int:
    return run_detached(read_handoff(sys.stdin.buffer), plugin_dir)
