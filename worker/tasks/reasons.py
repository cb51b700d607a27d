"""Why a scene is not (all) in Plex, in words, and what to do about it: for Queue Status, the command line, the
PlexSync page and the scene badge.

The store keeps each failure's class (how it was routed) and its message (what was said then). People get
neither raw: no exception class names, no server's HTML page, no URLs; the fix names the setting by the
label Stash's settings page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

_HTML_PAGE = re.compile(r"<(?:!doctype|html|head|body|center|h1|title)\b.*", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"\s*\b(?:at )?https?://[^\s;,)]+")
_CLASS_IN_PARENS = re.compile(r"\s*\((?:[A-Z][a-z0-9]+){2,}\)")  # "(ReadTimeout)", "(TypeError)"
_CLASS_PREFIX = re.compile(r"^(?:[A-Z][a-z0-9]+){2,}:\s*")  # "ModuleNotFoundError: …"
_PLEXAPI_STATUS = re.compile(r":?\s*\((\d{3})\) [a-z_]+;?")  # "(400) bad_request;" in messages 0.1.0 stored
_MAX_WORDS = 300

RETRY_FAILED = "Retry Failed Jobs"  # the task (and the page's Retry Failed button)
REPORT = "If it fails again, report it with PlexSync's worker log (Queue Status names the file)"


@dataclass(frozen=True)
class Reason:
    words: str  # what happened
    fix: str  # what to do ("" when nothing is needed)

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.words, "fix": self.fix}


def plain(message: Any) -> str:
    """A stored message without a server's page, URLs or class names, on one line."""
    text = _PLEXAPI_STATUS.sub(_status_words, _HTML_PAGE.sub("", str(message or "")))
    text = _CLASS_PREFIX.sub("", _CLASS_IN_PARENS.sub("", _URL.sub("", text)))
    text = " ".join(text.split()).strip(" ;:,")
    return text if len(text) <= _MAX_WORDS else text[: _MAX_WORDS - 1] + "…"


def _status_words(match: re.Match[str]) -> str:
    from http import HTTPStatus

    code = int(match.group(1))
    try:
        return f" ({code} {HTTPStatus(code).phrase})"
    except ValueError:
        return f" ({code})"


def _after_colon(message: str) -> str:
    return message.split(": ", 1)[1] if ": " in message else message


def _not_in_plex(state: str, message: str) -> Reason:
    where = _after_colon(message)
    if state == "skipped":
        return Reason(f"Not in Plex, so skipped (Skip scenes not in Plex is on): {where}",
                      "Add its folder to a Plex library to have it synced, then run Sync All Scenes")
    return Reason(f"Plex has not listed its file yet: {where}",
                  "Nothing to do while Plex scans it: PlexSync looks again by itself (Ask Plex to scan new files "
                  "speeds this up). If the file is outside Plex's library folders, add the folder in Plex or fix "
                  "Path map, then run Health Check")


def _ambiguous(message: str) -> Reason:
    candidates = _after_colon(message).replace("ratingKey ", "Plex item ")
    return Reason(f"Several Plex items could be its file ({candidates})",
                  "Remove the duplicate item in Plex, give Path map a rule that maps this scene's path to one of "
                  "them, or turn on Pick the closest match when files look alike; then Sync All Scenes")


def _rejected(message: str) -> Reason:
    said = plain(message)
    if re.search(r"\b41[34]\b", said):
        return Reason(f"{said}: the edit was larger than a proxy in front of Plex accepts",
                      f"Raise the proxy's request size limit (nginx: client_max_body_size), then {RETRY_FAILED}")
    return Reason(said or "Plex refused the edit",
                  f"Check the scene in Stash for an unusual value, then run {RETRY_FAILED}. {REPORT}")


# error class → how its message reads and what to do, for the classes PlexSync records (worker.sync.engine).
_FIXED = {
    "PlexItemGone": ("Its Plex item is gone (deleted or added again in Plex)",
                     "Nothing to do: PlexSync finds the item again by itself"),
    "SceneGone": ("It no longer exists in Stash", "Nothing to do"),
    "PlexUnavailable": (None, "Nothing to do: PlexSync tries again when Plex answers"),
    "StashUnavailable": (None, "Nothing to do: PlexSync tries again shortly"),
    "StashAuthError": (None, "Set an API key in Stash (Settings → Security); PlexSync tries again shortly"),
    "StashDataError": (None, f"Update Stash if it is older than PlexSync supports, then {RETRY_FAILED}"),
    "SceneDataError": (None, f"Correct that value in Stash; saving the scene queues it again ({RETRY_FAILED} "
                             "works too)"),
    "ImageUnusable": (None, "See the reason; Sync All Scenes tries the cover again"),
    "PlexAuthError": (None, "Check Plex token in PlexSync's settings, then run Health Check"),
    "PlexConfigError": (None, "Fix the setting named, then run Health Check"),
}


def explain(state: str, error_class: str | None, message: str | None) -> Reason:
    """``state``: dead (a dead letter), waiting_for_plex, skipped, ambiguous, synced_in_part, in_backoff, …"""
    message = message or ""
    if error_class == "ItemNotInPlex":
        return _not_in_plex(state, message)
    if error_class == "AmbiguousMatch" or state == "ambiguous":
        return _ambiguous(message)
    if error_class == "PlexRejected":
        return _rejected(message)
    if state == "synced_in_part":
        return Reason(f"Synced, but without its cover: {plain(message)}", _FIXED["ImageUnusable"][1])
    if error_class in _FIXED:
        words, fix = _FIXED[error_class]
        return Reason(words or plain(message) or "It failed", fix)
    said = plain(message)
    if state == "dead":
        return Reason(f"An unexpected error: {said}" if said else "An unexpected error",
                      f"Run {RETRY_FAILED}. {REPORT}")
    return Reason(said or "Not synced yet", "")


def explain_entry(entry: Mapping[str, Any]) -> Reason:
    """A ``needs_attention`` entry (state, reason_class, reason) or a dead letter (error_class, message)."""
    if "error_class" in entry:
        return explain("dead", entry.get("error_class"), entry.get("message"))
    return explain(str(entry.get("state") or ""), entry.get("reason_class"), entry.get("reason"))


# Short words for a class in counts ("2 failed (refused by Plex 1, Plex not answering 1)").
_SHORT = {
    "PlexRejected": "refused by Plex",
    "PlexUnavailable": "Plex not answering",
    "PlexItemGone": "Plex item gone",
    "ItemNotInPlex": "not in Plex yet",
    "AmbiguousMatch": "ambiguous",
    "ImageUnusable": "cover left out",
    "SceneDataError": "unusable Stash data",
    "SceneGone": "gone from Stash",
    "StashUnavailable": "Stash not answering",
    "StashAuthError": "Stash refused PlexSync",
    "StashDataError": "unexpected Stash answer",
}


def short_words(error_class: str) -> str:
    return _SHORT.get(error_class, "unexpected error")
