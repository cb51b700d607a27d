"""The setup checklist at the top of PlexSync's page: each step from Plex reachable to the first Sync All, with
its state and, when it needs one, its fix.

The page must answer at once, so nothing here asks Plex or Stash: it reads what Health Check and Sync All
recorded, with the queue's own state (a pause, an open circuit) on top, since that is newer than any check.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

HEALTH_KEY = "last_health_check"  # what the last Health Check found (no secrets: messages are redacted)
SYNC_ALL_KEY = "last_sync_all"  # when Sync All last finished, and how many scenes it compared

OK, PROBLEM, UNKNOWN = "ok", "problem", "unknown"
SETTINGS = "Settings → Plugins → PlexSync"
RUN_HEALTH_CHECK = "press Health Check"
TOKEN_FIX = (f"Set Plex token to the server owner's token ({SETTINGS}; docs/install.md says where to find it), "
             f"then {RUN_HEALTH_CHECK}")
LIBRARIES_FIX = (f"Check Plex libraries ({SETTINGS}): the names of movie-type libraries as Plex shows them, "
                 f"separated by commas, or empty for all of them; then {RUN_HEALTH_CHECK}")
PLEX_URL_FIX = (f"Check Plex URL ({SETTINGS}): Plex's address as the machine running Stash reaches it, usually "
                f"port 32400, e.g. http://192.168.1.10:32400; then {RUN_HEALTH_CHECK}")


def record_health(store: Any, found: Mapping[str, Any]) -> None:
    """``found``: plex (ok, unauthorized, unreachable, misconfigured, settings), message, libraries, path_map."""
    store.set_json(HEALTH_KEY, {**found, "at": time.time()})


def record_sync_all(store: Any, output: Mapping[str, Any]) -> None:
    store.set_json(SYNC_ALL_KEY, {"at": time.time(), "scanned": output.get("scanned", 0),
                                  "queued": output.get("queued", 0)})


def _item(key: str, label: str, state: str, text: str, fix: str = "",
          checked_at_s: float | None = None) -> dict[str, Any]:
    return {"key": key, "label": label, "state": state, "text": text, "fix": fix, "checked_at": checked_at_s}


def _reachable(health: Mapping[str, Any] | None, status: Mapping[str, Any]) -> dict[str, Any]:
    label = "Plex reachable"
    checked_at_s = health.get("at") if health else None
    if status.get("circuit") == "open":
        return _item("plex", label, PROBLEM, "Plex stopped answering; PlexSync tries again by itself",
                     "If it lasts, check that Plex runs and that Plex URL is its address as this machine reaches "
                     f"it ({SETTINGS}), then {RUN_HEALTH_CHECK}")
    if not health:
        if status.get("last_sync_at"):
            return _item("plex", label, OK, "Plex answered the last sync")
        return _item("plex", label, UNKNOWN, "Not checked yet", f"Set Plex URL and Plex token ({SETTINGS}), then "
                     f"{RUN_HEALTH_CHECK}")
    state = health.get("plex")
    if state in ("ok", "unauthorized"):
        return _item("plex", label, OK, "Plex answered", checked_at_s=checked_at_s)
    if state == "settings":
        return _item("plex", label, PROBLEM, str(health.get("message")), f"Fix it in {SETTINGS}, then "
                     f"{RUN_HEALTH_CHECK}", checked_at_s)
    return _item("plex", label, PROBLEM, str(health.get("message") or "Plex did not answer"), PLEX_URL_FIX,
                 checked_at_s)


def _token(health: Mapping[str, Any] | None) -> dict[str, Any]:
    label = "Token accepted"
    if not health or health.get("plex") not in ("ok", "unauthorized"):
        return _item("token", label, UNKNOWN, "Not checked yet", RUN_HEALTH_CHECK.capitalize() + " once Plex answers")
    if health.get("plex") == "unauthorized":
        return _item("token", label, PROBLEM, str(health.get("message") or "Plex rejected the token"), TOKEN_FIX,
                     health.get("at"))
    return _item("token", label, OK, "Plex accepted the token", checked_at_s=health.get("at"))


def _libraries(health: Mapping[str, Any] | None) -> dict[str, Any]:
    label = "Libraries found"
    if health and health.get("plex") == "misconfigured" and "librar" in str(health.get("message")):
        return _item("libraries", label, PROBLEM, str(health.get("message")), LIBRARIES_FIX, health.get("at"))
    if not health or health.get("plex") != "ok":
        return _item("libraries", label, UNKNOWN, "Not checked yet", RUN_HEALTH_CHECK.capitalize() + " once Plex "
                     "accepts the token")
    names = "; ".join(_library(lib) for lib in health.get("libraries") or [])
    return _item("libraries", label, OK, names or "none", checked_at_s=health.get("at"))


def _library(lib: Mapping[str, Any]) -> str:
    """'Movies (/media/stash; 1,204 files listed)': the folders Plex scans are what Path map must lead to."""
    listed = int(lib.get("indexed_files") or 0)
    details = list(lib.get("locations") or []) + ([f"{listed:,} files listed"] if listed else [])
    return f"{lib['title']} ({'; '.join(details)})" if details else str(lib["title"])


def _path_map(health: Mapping[str, Any] | None) -> dict[str, Any]:
    label = "Path map checked"
    if not health or health.get("plex") != "ok":
        return _item("path_map", label, UNKNOWN, "Not checked yet", RUN_HEALTH_CHECK.capitalize() + " once Plex "
                     "answers (it tries Path map on your newest scenes)")
    checked = health.get("path_map") or {}
    checked_at_s = health.get("at")
    if not checked.get("sampled"):
        why = checked.get("error") or "no Stash scene with a file to try it on"
        return _item("path_map", label, UNKNOWN, f"Not checked: {why}", f"Scan your library in Stash, then "
                     f"{RUN_HEALTH_CHECK}", checked_at_s)
    problems = checked.get("problems") or []
    if problems:
        suggestion = checked.get("suggestion")
        fix = (f"Set Path map to {suggestion} ({SETTINGS}), then {RUN_HEALTH_CHECK}" if suggestion else
               f"Set Path map so Stash's paths become Plex's (Stash prefix=Plex prefix, {SETTINGS}), then "
               f"{RUN_HEALTH_CHECK}")
        return _item("path_map", label, PROBLEM, "; ".join(problems), fix, checked_at_s)
    return _item("path_map", label, OK, f"{checked.get('mapped_into_library', 0)} of {checked['sampled']} sampled "
                 "Stash paths map into a Plex library folder", checked_at_s=checked_at_s)


def _first_sync_all(done: Mapping[str, Any] | None) -> dict[str, Any]:
    label = "First Sync All done"
    if not done:
        return _item("sync_all", label, UNKNOWN, "Not yet", "Press Sync All once the lines above are ticked: it "
                     "brings every scene to Plex; after that each edit syncs by itself")
    return _item("sync_all", label, OK, f"{done.get('scanned', 0):,} scenes compared with Plex, "
                 f"{done.get('queued', 0):,} of them needed a sync", checked_at_s=done.get("at"))


def checklist(store: Any, status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The five lines, in the order a newcomer works through them."""
    health = store.get_json(HEALTH_KEY, None)
    lines = [_reachable(health, status), _token(health), _libraries(health), _path_map(health),
             _first_sync_all(store.get_json(SYNC_ALL_KEY, None))]
    pause = status.get("paused") or {}
    if pause.get("kind") in ("auth", "config"):  # a pause is newer than any check: its line says so
        message = str(pause.get("message") or "syncing is paused")
        key, fix = (("token", TOKEN_FIX) if pause["kind"] == "auth" else ("libraries", LIBRARIES_FIX)
                    if "librar" in message.lower() else ("plex", PLEX_URL_FIX))
        for line in lines:
            if line["key"] == key:
                line.update(state=PROBLEM, text=message, fix=fix, checked_at=pause.get("since"))
    return lines
