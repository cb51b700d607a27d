"""Start the detached worker, or wake the one that is already running (used by hooks and tasks).

The hook takes the lease on the worker's behalf *before* spawning it, so a burst of hooks (a bulk edit
runs one process per scene) starts exactly one worker. The child inherits none of Stash's pipes: Stash
reads our stdout until EOF, and a child holding it would keep the user's save waiting.
"""

from __future__ import annotations

import json
import os
import sys
import time

from sync_queue.database import Database
from sync_queue.schema import KV_SPAWN_PAUSE, SPAWN_PAUSE_MAX_S

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping

SPAWN_LEASE_S = 45.0  # the child must adopt (renew) the lease within this time
WORKER_COMMAND = "worker"


def wake(port: int | None) -> None:
    """Nudge a sleeping worker so new work does not wait for its timer (best effort, loopback UDP)."""
    if not port:
        return
    try:  # the C module under ``socket``: socket.py's enum conversions would cost every hook ~3 ms
        import _socket as sockets
    except ImportError:  # an interpreter without it
        import socket as sockets  # type: ignore[no-redef]

    try:
        sock = sockets.socket(sockets.AF_INET, sockets.SOCK_DGRAM)
        try:
            sock.sendto(b"wake", ("127.0.0.1", int(port)))
        finally:
            sock.close()
    except OSError:
        pass  # the worker also wakes on its own timer


def detached_popen_kwargs() -> dict[str, Any]:
    import subprocess  # here, not at the top: most hooks only wake a running worker and never spawn one

    kwargs: dict[str, Any] = {
        "stdin": subprocess.PIPE,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "close_fds": True,
    }
    if os.name == "nt":
        kwargs["creationflags"] = (
            getattr(subprocess, "DETACHED_PROCESS", 0x8)
            | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
        )
    else:
        kwargs["start_new_session"] = True
    return kwargs


def spawn_worker(entry_script: str | os.PathLike[str], handoff: Mapping[str, Any], cwd: Path) -> int:
    """Start ``PlexSync.py worker`` detached; secrets travel on its stdin, never in argv or on disk."""
    import subprocess

    process = subprocess.Popen(
        [sys.executable, str(entry_script), WORKER_COMMAND], cwd=str(cwd), **detached_popen_kwargs()
    )
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(dict(handoff)).encode("utf-8"))
    finally:
        process.stdin.close()
    process.returncode = 0  # we never wait for it; keep Popen.__del__ from warning about it
    return process.pid


def spawn_paused(store: Database, now_s: float) -> bool:
    """Hooks hold off spawning until the stored time; one further ahead than any pause lasts was written
    before the wall clock stepped back, and does not hold them off for the step as well."""
    until_s = float(store.get_json(KV_SPAWN_PAUSE, 0) or 0)
    return now_s < until_s <= now_s + SPAWN_PAUSE_MAX_S


def ensure_worker(store: Database, entry_script: str | os.PathLike[str], server_connection: Any) -> str:
    """'running' (woken), 'started' (spawned), or 'paused' (an auth/outage pause asked hooks to wait)."""
    holder = store.lease_holder()
    if holder is not None:
        wake(holder["wake_port"])
        return "running"
    if spawn_paused(store, time.time()):
        return "paused"
    token = os.urandom(16).hex()  # a lease token: unique, nothing more (uuid would load platform)
    if not store.acquire_lease(token, SPAWN_LEASE_S, pid=0):
        return "running"  # another hook won the race a moment ago
    handoff = {"server_connection": server_connection, "lease_token": token, "data_dir": str(store.data_dir)}
    pid = spawn_worker(entry_script, handoff, store.data_dir)
    store.set_lease_pid(token, pid)  # if the child dies before adopting the lease, the next hook sees it
    return "started"
