"""Hook intake: turn Stash's hook context into one durable intake event, then make sure a worker runs.

Runs inside the user's save (Stash waits for this process), so it keeps the no-loss rule
(``sync_queue.intake.spool``) without network work and imports only the standard library, ``sync_queue`` and,
to log, ``validation.stash_wire`` (no ``logging``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping

from sync_queue.database import Database
from sync_queue.intake.launcher import ensure_worker
from sync_queue.intake.owner import check_owner_unless_busy
from sync_queue.schema import KV_SETTINGS_CACHE, KV_WORKER_NOTICES

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    import os
    from pathlib import Path
    from typing import Any

SCENE_TRIGGERS = frozenset({"Scene.Create.Post", "Scene.Update.Post"})
DESTROY_TRIGGER = "Scene.Destroy.Post"
FANOUT_TRIGGERS = {
    "Performer.Update.Post": "performer",
    "Studio.Update.Post": "studio",
    "Tag.Update.Post": "tag",
    "Tag.Merge.Post": "tag",
    "Group.Update.Post": "group",
}


DISABLED_RECHECK_S = 60.0  # how long an "off" read from Stash is trusted before a worker re-reads it
# The user's save waits for the hook: all its waits for SQLite's lock together (owner check, intake insert,
# starting a worker) last at most this long; the event is spooled instead. Writers hold the lock for
# milliseconds (no transaction spans a network request), so this is a safety net.
HOOK_BUSY_TIMEOUT_S = 2.0
MAX_OBJECT_ID = 2**63 - 1  # SQLite's INTEGER: a larger id would be stored, then fail every worker that reads it


def _warn(message: str, *args: object) -> None:
    from validation.stash_wire import WireLog  # here: most hooks log nothing

    WireLog("hook").warning(message, *args)


class HookError(ValueError):
    """The hook context Stash sent is not one PlexSync can act on."""


class IntakeError(RuntimeError):
    """The event could not be written to the queue database; ``output`` says whether it was kept."""

    def __init__(self, message: str, output: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.output = output


def _object_id(value: Any, trigger: str) -> str:
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_OBJECT_ID:  # "²".isdigit() is True too
        raise HookError(f"{trigger} hook without a numeric object id (got {value!r})")
    return str(int(text))


def event_from_hook(hook_context: Any, now_s: float | None = None) -> dict[str, Any]:
    """The intake event for one hook run: ``{"kind", "id", "event", "at"}``."""
    if not isinstance(hook_context, Mapping):
        raise HookError("hookContext must be an object with 'type' and 'id'")
    trigger = hook_context.get("type")
    if not isinstance(trigger, str) or not trigger:
        raise HookError("hookContext.type is missing")
    at_s = time.time() if now_s is None else now_s
    if trigger in SCENE_TRIGGERS:
        kind, raw_id = "scene", hook_context.get("id")
    elif trigger == DESTROY_TRIGGER:
        kind, raw_id = "destroy", hook_context.get("id")
    elif trigger in FANOUT_TRIGGERS:
        kind, raw_id = FANOUT_TRIGGERS[trigger], hook_context.get("id")
        hook_input = hook_context.get("input")
        if trigger == "Tag.Merge.Post" and isinstance(hook_input, Mapping) and hook_input.get("destination"):
            raw_id = hook_input["destination"]  # the sources are gone; their scenes now carry the destination
    else:
        raise HookError(f"PlexSync does not handle the {trigger!r} hook")
    return {"kind": kind, "id": _object_id(raw_id, trigger), "event": trigger, "at": at_s}


def known_disabled(settings: Mapping[str, Any], now_s: float) -> bool:
    """The last settings a worker or task read said "off", recently enough to trust without asking Stash."""
    read_at_s = settings.get("read_at")
    fresh = isinstance(read_at_s, (int, float)) and 0 <= now_s - read_at_s < DISABLED_RECHECK_S
    return settings.get("enabled") is False and fresh


def _is_busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def queue_event(store: Database, event: dict[str, Any]) -> str:
    """Write the event durably: ``"store"`` (the intake table) or ``"spool"`` (the database was busy).

    A damaged database is set aside and the event goes to a fresh one. Any other database failure is
    raised as :class:`IntakeError` naming the real cause, after keeping the event in the spool if possible.
    """
    try:
        try:
            store.append_event(event)
        except sqlite3.DatabaseError as exc:
            if not store.recover_if_damaged(exc):
                raise
            store.append_event(event)
        return "store"
    except sqlite3.Error as exc:
        failure = exc
    what = f"{event['kind']} {event['id']}"
    try:
        kept = spool_event(store.data_dir, event)
    except OSError as spool_failure:
        raise IntakeError(
            f"PlexSync could not queue {what}: its queue database {store.path} failed ({failure}) and so did "
            f"the spool folder ({spool_failure}). This edit is NOT queued: fix the cause, then run Sync Recent."
        ) from failure
    if _is_busy(failure):
        _warn("The queue database stayed busy for %.0f s; %s waits in %s for the worker", store.timeout_s, what, kept)
        return "spool"
    raise IntakeError(
        f"PlexSync could not write its queue database {store.path}: {failure}. This edit was kept in {kept} "
        "and syncs once the database can be written again.",
        output={"queued": event["kind"], "id": event["id"], "kept_in": str(kept)},
    ) from failure


def spool_event(data_dir: Path, event: dict[str, Any]) -> Path:
    """The busy or broken database's fallback (``sync_queue.intake.spool``), imported only then: it uses pathlib."""
    from sync_queue.intake import spool

    return spool.spool_event(data_dir, event)


def _start_worker(store: Database, entry_script: str | os.PathLike[str],
                  server_connection: Any) -> tuple[str, str | None]:
    """Whether a worker runs for this edit, and a notice the detached worker left for Stash's log (once)."""
    notice = None
    try:
        state = store.get_raw_values(KV_SETTINGS_CACHE, KV_WORKER_NOTICES)  # one indexed read
        if state.get(KV_WORKER_NOTICES) is not None:
            from sync_queue.notices import take_notice  # here: most hooks find no notice

            notice = take_notice(store, state[KV_WORKER_NOTICES])
        if known_disabled(json.loads(state.get(KV_SETTINGS_CACHE) or "{}") or {}, time.time()):
            return "disabled", notice
        return ensure_worker(store, entry_script, server_connection), notice
    except sqlite3.OperationalError as exc:
        if not _is_busy(exc):
            raise
        _warn("The queue database stayed busy; no worker was started for this edit (it stays queued, "
              "and the next hook or task starts one)")
        return "busy", notice


def handle_hook(payload: Mapping[str, Any], data_dir: str | os.PathLike[str],
                entry_script: str | os.PathLike[str]) -> dict[str, Any]:
    """Queue the event durably and return what happened (the ``output`` of the run).

    Events are queued even while PlexSync is switched off: they sync once it is on again. A stale "off"
    starts a worker anyway, which reads the settings from Stash (a hook can't) and exits if still off.
    A run from a second Stash on this data folder is refused before anything is read from its context.
    """
    args = payload.get("args") if isinstance(payload.get("args"), Mapping) else {}
    deadline_mono_s = time.monotonic() + HOOK_BUSY_TIMEOUT_S
    with Database(data_dir, timeout_s=HOOK_BUSY_TIMEOUT_S, deadline_mono_s=deadline_mono_s) as store:
        check_owner_unless_busy(store, payload.get("server_connection"))  # on the hook's own connection
        event = event_from_hook(args.get("hookContext"))
        queued_in = queue_event(store, event)
        worker, notice = _start_worker(store, entry_script, payload.get("server_connection"))
    if notice:
        _warn(notice)  # the worker has no Stash stderr: shown here, once
    output = {"queued": event["kind"], "id": event["id"], "worker": worker}
    if queued_in == "spool":
        output["spooled"] = True
    return output
