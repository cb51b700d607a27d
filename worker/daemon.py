"""The detached worker a hook starts: drain, sleep until the next due time, exit when idle.

It stays while pending work falls due within ``IDLE_HORIZON`` (sleeping, woken early by hooks over a
loopback datagram), then releases the lease and exits. Its log goes to ``<data>/logs/worker.log``:
Stash no longer reads its stderr (it must not hold Stash's pipes).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from sync_queue.store import Store
from validation import stash_log
from worker.lease import Lease
from worker.loop import drain, next_wake_time, probe_plex
from worker.pauses import current_pause, stash_failures
from worker.runtime import SETTINGS_REFRESH_SECONDS

IDLE_HORIZON = 15 * 60.0
STASH_GIVE_UP_FAILURES = 6  # ~10 min of growing backoff (10, 20, 40, 80, 160, 300 s)
LOG_MAX_BYTES = 2 * 1024 * 1024

log = stash_log.get_logger("worker")


def open_log_file(data_dir: Path):
    """Append to logs/worker.log, keeping one previous file when it grows past LOG_MAX_BYTES."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "worker.log"
    if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
        os.replace(path, folder / "worker.log.1")
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
    from worker.engine import SyncEngine

    engine = SyncEngine(runtime)
    store = runtime.store
    while True:
        if runtime.refresh_settings():
            if not runtime.config.enabled:
                return "disabled"
            engine = SyncEngine(runtime)  # it holds the path map, matching rules and field toggles
        # Drain in slices so a long backlog still sees settings changes (a "budget" stop just loops).
        result = drain(runtime, engine, lease, deadline=time.time() + SETTINGS_REFRESH_SECONDS)
        if result.report.processed:
            log.info("Batch done: %s", result.report.as_dict())
        if result.stopped in ("lease", "auth", "config"):
            return result.stopped
        if result.stopped == "stash" and stash_gone(store):
            # Stash must be up to fire the next hook; polling a stopped Stash forever helps nobody.
            log.warning("Stash has not answered for a while; the worker exits and the next hook or task resumes")
            return "stash"
        wake_at = next_wake_time(runtime, result)
        if store.intake_size():
            continue
        now = time.time()
        if wake_at is None or wake_at - now > IDLE_HORIZON:
            lease.release(store)
            # A hook that saw our lease just before we let go only woke us; don't strand its event.
            if store.intake_size() and lease.acquire(store):
                continue
            return "idle"
        if wake_at > now:
            lease.wait_for_wake(wake_at - now)


def run_detached(handoff: Mapping[str, Any], plugin_dir: Path) -> int:
    from worker.runtime import build_runtime
    from worker.stash_reader import StashReader

    data_dir = Path(handoff["data_dir"])
    log_file = open_log_file(data_dir)
    stash_log.configure(plain_file=log_file)
    store = Store(data_dir)
    lease = Lease(lambda: Store(data_dir), handoff.get("lease_token"))
    try:
        if not lease.acquire(store):
            log.info("Another worker holds the lease; exiting")
            return 0
        stash = StashReader(handoff["server_connection"])
        runtime = build_runtime(data_dir, plugin_dir, stash=stash, log_file=log_file)
        if not runtime.config.enabled:
            log.info("PlexSync is disabled; the queue is kept for later")
            return 0
        if current_pause(store) and probe_plex(runtime) is not None:
            log.warning("Still paused: %s", current_pause(store))
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


def main(plugin_dir: Path) -> int:
    return run_detached(read_handoff(sys.stdin.buffer), plugin_dir)
