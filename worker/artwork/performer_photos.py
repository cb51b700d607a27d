"""Performer photos for Plex actors: whether they can be given to Plex this run, and the one scene model every
caller builds (sync, Sync All's "what changed", preview), so all of them agree on the fingerprint.

Plex fetches an actor photo from its URL itself. A Stash with a password (it then has an API key) answers such a
fetch only with ``?apikey=`` in the URL, and Plex stores that URL in its database and shows it in its XML to
anyone who can read it. So the key goes into a URL only when the user allowed it (``photo_urls_with_api_key``);
otherwise no photo is written and the user is told once (Stash's log and the status), never with the key.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sync_queue.notices import add_notice
from sync_queue.schema import KV_PHOTOS_BLOCKED
from validation.metadata import PlexMetadata, build_metadata
from validation.settings.names import label
from validation.stash_log import get_logger

log = get_logger("photos")

BLOCKED_MESSAGE = ("Performer photos are not written to Plex: Stash has a password, so Plex could fetch a photo "
                   "only with Stash's API key in its URL, which Plex would store and show to anyone who can read "
                   f"its XML. Turn on \"{label('stash_url_with_api_key')}\" to allow that, or empty "
                   f"\"{label('stash_url_for_plex')}\"")


_KEY_IN_URL = re.compile(r"([?&]apikey=)[^&#\s]*")


def key_hidden(value: Any) -> Any:
    """``value`` with every photo URL's ``apikey=`` masked (a preview's task output is logged by Stash)."""
    if isinstance(value, str):
        return _KEY_IN_URL.sub(r"\1…", value)
    if isinstance(value, dict):
        return {name: key_hidden(item) for name, item in value.items()}
    return value


def photo_options(config: Any, stash: Any) -> dict[str, Any]:
    """``build_metadata``'s photo arguments: photos off when Stash needs a key the user kept out of URLs."""
    api_key = getattr(stash, "api_key", None) if config.stash_url_for_plex else None
    if not api_key:
        return {"photos": True, "photo_key": None}
    if not config.photo_urls_with_api_key:
        return {"photos": False, "photo_key": None}
    return {"photos": True, "photo_key": api_key}


def wanted_state(scene: Mapping[str, Any], config: Any, stash: Any) -> PlexMetadata:
    """What Plex should show for ``scene`` (raises ``SceneDataError`` like ``build_metadata``)."""
    return build_metadata(scene, config, **photo_options(config, stash))


def announce_if_blocked(store: Any, config: Any, stash: Any) -> bool:
    """Tell the user once (until it changes) that photos are held back; True when they are."""
    blocked = bool(config.stash_url_for_plex) and not photo_options(config, stash)["photos"]
    told = store.get_json(KV_PHOTOS_BLOCKED, None) is not None  # also what Queue Status shows
    if blocked and not told:
        log.warning(BLOCKED_MESSAGE)
        add_notice(store, problem=BLOCKED_MESSAGE)
        store.set_json(KV_PHOTOS_BLOCKED, BLOCKED_MESSAGE)
    elif told and not blocked:
        store.delete_key(KV_PHOTOS_BLOCKED)
    return blocked


class SceneModels:
    """The sync's ``wanted_state``; the first scene of a run also tells the user, once, if photos are held back."""

    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self._checked = False

    def wanted(self, scene: Mapping[str, Any]) -> PlexMetadata:
        if not self._checked:
            self._checked = True
            announce_if_blocked(self.rt.store, self.rt.config, self.rt.stash)
        return wanted_state(scene, self.rt.config, self.rt.stash)
