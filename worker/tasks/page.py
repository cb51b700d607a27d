"""Answers for PlexSync's pages inside Stash (``runPluginOperation`` with ``args.mode == "ui"``).

Stash runs these inside the browser's HTTP request, so each one only reads the store or queues work and answers
at once: no Plex or Stash request, and nothing secret (the store holds no token; messages were redacted when
recorded). Long work runs as a Stash task the page starts (``runPluginTask``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping

from sync_queue.intake.launcher import ensure_worker
from sync_queue.schema import KV_LAST_PREVIEW
from sync_queue.store import Store
from worker.tasks.reasons import explain, explain_entry, plain
from worker.tasks.setup_checklist import checklist
from worker.tasks.summary import connection_text, ready_to_sync
from worker.tasks.handlers import queue_status

UI_MODE = "ui"
MAX_SCENE_ID = 2**63 - 1


class UiRequestError(ValueError):
    """The page asked for something PlexSync can't answer (unknown operation, bad scene id)."""


def _scene_id(args: Mapping[str, Any]) -> int:
    raw = args.get("scene_id")
    text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_SCENE_ID:
        raise UiRequestError(f"scene_id must be a positive whole number (a Stash scene id), got {raw!r}")
    return int(text)


def scene_problems(store: Store, status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every scene that failed (dead letters, newest first) or is not (all) in Plex, with its reason in words
    and what to do; the page adds the titles (one Stash request from the browser)."""
    letters = sorted(store.dead_letters(), key=lambda letter: -letter["last_failed_at"])
    problems = [{"scene_id": letter["scene_id"], "kind": "failed", "attempts": letter["attempts"],
                 "at": letter["last_failed_at"], **explain_entry(letter).as_dict()} for letter in letters]
    for entry in status.get("needs_attention") or []:
        kind = "ambiguous" if entry.get("reason_class") == "AmbiguousMatch" else entry["state"]
        problems.append({"scene_id": entry["scene_id"], "kind": kind, "attempts": entry.get("attempts"),
                         "at": entry.get("next_try_at"), **explain_entry(entry).as_dict()})
    return problems


def overview(store: Store, _args: Mapping[str, Any], _ctx: UiContext) -> dict[str, Any]:
    """Everything the PlexSync page shows: the Queue Status answer, the setup checklist, and every scene that
    needs attention with its reason in words."""
    status = queue_status(store)
    status.pop("dead_letters", None)  # ``problems`` names every one, with its reason in words
    status["has_preview"] = store.get_json(KV_LAST_PREVIEW, None) is not None
    status["ready"] = ready_to_sync(status)
    status["connection"] = connection_text(status)
    status["setup"] = checklist(store, status)
    status["problems"] = scene_problems(store, status)
    failure = status.get("worker_start_failure")
    if isinstance(failure, Mapping):  # recorded with the exception's class name: the page says it in words
        status["worker_start_failure"] = {**failure, "message": plain(failure.get("message"))}
    return status


def _in_words(state: str, row: Mapping[str, Any], otherwise: str) -> str:
    if not row["last_error"]:
        return otherwise
    reason = explain(state, row["last_error_class"], row["last_error"])
    return reason.words + (f" — {reason.fix}" if reason.fix else "")


def _pending_state(row: Mapping[str, Any], live_token: str | None, now_s: float) -> tuple[str, str]:
    if row["lane"] == "waiting_for_plex":
        return "waiting_for_plex", _in_words("waiting_for_plex", row, "Plex has not listed this file yet")
    if row["claim_token"] is not None and row["claim_token"] == live_token:
        return "syncing", "being written to Plex now"
    if row["attempts"] and row["not_before"] > now_s:
        return "in_backoff", _in_words("in_backoff", row, "retrying after an error")
    return "pending", "queued; syncs within seconds"


def _settled_state(row: Mapping[str, Any]) -> tuple[str, str]:
    if row["status"] == "synced":
        return "synced", ""
    if row["last_error_class"] == "AmbiguousMatch":
        return "ambiguous", _in_words("ambiguous", row, "several Plex items could be this file")
    if row["status"] == "skipped":
        return "skipped", _in_words("skipped", row, "")
    return "unknown", ""


def scene(store: Store, args: Mapping[str, Any], _ctx: UiContext) -> dict[str, Any]:
    """One scene's Plex state for the badge on its page."""
    scene_id = _scene_id(args)
    row = store.scene_state(scene_id)
    dead = store.dead_letter(scene_id)
    answer: dict[str, Any] = {"scene_id": scene_id, "plex_item": None, "synced_at": None, "next_try_at": None}
    if row is not None and row["rating_key"] is not None:
        answer["plex_item"] = {"rating_key": row["rating_key"], "section_id": row["section_id"],
                               "match_method": row["match_method"]}
        answer["synced_at"] = row["synced_at"]
    holder = store.lease_holder()
    if dead is not None:
        state, reason = "failed", _in_words("dead", {"last_error": dead["message"],
                                                     "last_error_class": dead["error_class"]}, "")
    elif scene_id in store.unabsorbed_scene_ids():
        state, reason = "pending", "queued; syncs within seconds"
    elif row is None:
        state, reason = "unknown", "PlexSync has not seen this scene yet: edit it, use Sync now, or run Sync All"
    elif row["generation"] > row["done_generation"]:
        state, reason = _pending_state(row, holder["token"] if holder is not None else None, time.time())
        answer["next_try_at"] = row["not_before"]
    else:
        state, reason = _settled_state(row)
    answer.update(state=state, reason=reason)
    return answer


def sync_scene(store: Store, args: Mapping[str, Any], ctx: UiContext) -> dict[str, Any]:
    """Queue one scene like a hook does (durable intake event) and make sure a worker runs; never sync here."""
    scene_id = _scene_id(args)
    store.append_event({"kind": "scene", "id": str(scene_id), "event": "PlexSync.SyncNow", "at": time.time()})
    return {"queued": scene_id, "worker": ctx.start_worker(store)}


def retry_failed(store: Store, _args: Mapping[str, Any], ctx: UiContext) -> dict[str, Any]:
    requeued = store.retry_dead_letters()
    return {"requeued": requeued, "worker": ctx.start_worker(store) if requeued else "not needed"}


def clear_dead_letters(store: Store, _args: Mapping[str, Any], _ctx: UiContext) -> dict[str, Any]:
    return {"cleared": store.clear_dead_letters()}


def last_preview(store: Store, _args: Mapping[str, Any], _ctx: UiContext) -> dict[str, Any]:
    """The newest Preview Sync result (the task stores it), for the page's diff table."""
    return {"preview": store.get_json(KV_LAST_PREVIEW, None)}


def gaps(store: Store, _args: Mapping[str, Any], _ctx: UiContext) -> dict[str, Any]:
    """The newest gap report (the Show Gaps task stores it): counts and the first entries of each side."""
    from sync_queue.mirror.gaps import KV_LAST_GAPS

    return {"gaps": store.get_json(KV_LAST_GAPS, None)}


class UiContext:
    def __init__(self, entry_script: Path, server_connection: Any) -> None:
        self.entry_script = entry_script
        self.server_connection = server_connection

    def start_worker(self, store: Store) -> str:
        if not isinstance(self.server_connection, Mapping):
            return "not started (no Stash connection)"
        return ensure_worker(store, self.entry_script, dict(self.server_connection))


OPERATIONS: dict[str, Callable[[Store, Mapping[str, Any], UiContext], dict[str, Any]]] = {
    "overview": overview,
    "scene": scene,
    "sync_scene": sync_scene,
    "retry_failed": retry_failed,
    "clear_dead_letters": clear_dead_letters,
    "last_preview": last_preview,
    "gaps": gaps,
}


def run_ui_operation(payload: Mapping[str, Any], data_dir: Path, entry_script: Path) -> dict[str, Any]:
    args = payload["args"]
    op = args.get("op")
    if not isinstance(op, str) or op not in OPERATIONS:  # a list or an object is no name (nor hashable)
        raise UiRequestError(f"Unknown PlexSync page operation {op!r}; expected one of: {', '.join(OPERATIONS)}")
    ctx = UiContext(entry_script, payload.get("server_connection"))
    with Store(data_dir) as store:
        return OPERATIONS[op](store, args, ctx)
