"""Watch state of the Plex emulator: accounts, play history, view offsets, scrobble and progress, shaped after
what plexapi 4.18.3 sends and reads and what a real PMS answers (plex-api.md, addendum "Watch state").

``viewCount``, ``lastViewedAt`` and ``viewOffset`` on items are the token owner's (they render as Video attributes
through the item's fields).
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from emulators.plex import views as xml
from emulators.plex.filters import page, paging

from emulators.plex.request import RecordedRequest

if TYPE_CHECKING:
    from emulators.plex.model import PlexLibrary

Answer = tuple[int, bytes]
OWNER_ID = 1
MARKED_PLAYED_WITHOUT_HISTORY = (1, 40, 0, 7998)  # python-plexapi PR #1366 (see PlexWatchState.mark_played)
NOT_FOUND: Answer = (404, b"<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>")
BAD_REQUEST: Answer = (400, b"<html><head><title>Bad Request</title></head><body><h1>400 Bad Request</h1></body></html>")
EMPTY: Answer = (200, b"")
_VIEWED_AT_KEY = re.compile(r"^viewedAt([<>]{0,2})$")


@dataclass
class HistoryRow:
    history_id: int
    rating_key: int
    account_id: int
    viewed_stamp: int
    device_id: int
    section_id: int
    title: str


class PlexWatchState:
    """Accounts and play history of one emulated server; item watch fields live on the library's items."""

    def __init__(self, library: PlexLibrary, owner_name: str = "owner", server_version: str = xml.VERSION) -> None:
        self.library = library
        self.server_version = server_version
        self.lock = threading.RLock()
        self.accounts: dict[int, str] = {OWNER_ID: owner_name}
        self.rows: list[HistoryRow] = []
        self._next_history = 1000

    # -- test setup ------------------------------------------------------------------------------

    def add_account(self, name: str) -> int:
        """A managed or shared user of this server (ids above the owner's, like PMS)."""
        with self.lock:
            account_id = max(self.accounts) + 1
            self.accounts[account_id] = name
            return account_id

    def play(self, rating_key: int, *, account_id: int = OWNER_ID, viewed_stamp: int | None = None,
             device_id: int = 1) -> int:
        """Someone watched the item to the end: a history row; for the owner also viewCount/lastViewedAt, and the
        resume point is cleared (a finished item has none). Returns the history id."""
        with self.lock, self.library.lock:
            item = self.library.item(rating_key)
            if account_id not in self.accounts:
                raise KeyError(f"no account {account_id}")
            stamp = int(viewed_stamp if viewed_stamp is not None else time.time())
            self._next_history += 1
            self.rows.append(HistoryRow(self._next_history, item.rating_key, account_id, stamp, device_id,
                                        item.section_id, item.fields.get("title", "")))
            if account_id == OWNER_ID:
                item.fields["viewCount"] = str(int(item.fields.get("viewCount") or 0) + 1)
                item.fields["lastViewedAt"] = str(stamp)
                item.fields.pop("viewOffset", None)
            return self._next_history

    def mark_played(self, rating_key: int) -> None:
        """``/:/scrobble``: the owner's view count and last-viewed time; a history row only before PMS 1.40.0.7998.

        ``viewCount`` goes up and ``lastViewedAt`` is now (plexapi's real-server ``test_video_movie_watched``:
        viewCount 1 after markPlayed). From PMS 1.40.0.7998 it writes **no** history row: "(View History) No longer
        create a view history entry for items marked as played" (PMS release notes, quoted in python-plexapi PR
        #1366, which changed ``test_history_Movie`` to ``assert not len(history)`` after ``markPlayed()``; issue
        #1365: "calling MarkPlayed no longer creates a history record"). Older servers did write one (that test
        asserted ``len(history)`` before the PR): an emulator built with an older ``version`` does too. Whether a
        second mark of a played item counts twice is unverified; the emulator counts it."""
        if not _marks_without_history(self.server_version):
            self.play(rating_key)
            return
        with self.library.lock:
            item = self.library.item(rating_key)
            item.fields["viewCount"] = str(int(item.fields.get("viewCount") or 0) + 1)
            item.fields["lastViewedAt"] = str(int(time.time()))
            item.fields.pop("viewOffset", None)

    def set_offset(self, rating_key: int, offset_ms: int | None) -> None:
        """The owner stopped part-way (``None`` clears the resume point)."""
        with self.library.lock:
            item = self.library.item(rating_key)
            if offset_ms:
                item.fields["viewOffset"] = str(int(offset_ms))
            else:
                item.fields.pop("viewOffset", None)

    def plays_of(self, rating_key: int) -> list[HistoryRow]:
        with self.lock:
            return [row for row in self.rows if row.rating_key == int(rating_key)]

    # -- what the routes answer ------------------------------------------------------------------

    def accounts_xml(self) -> ElementTree.Element:
        """``GET /accounts`` → ``<Account id key name …/>`` (plexapi ``server.SystemAccount``; id 1 is the owner)."""
        with self.lock:
            root = xml.container(size=len(self.accounts), identifier="com.plexapp.system.accounts")
            for account_id, name in sorted(self.accounts.items()):
                ElementTree.SubElement(root, "Account", id=str(account_id), key=f"/accounts/{account_id}",
                                       name=name, defaultAudioLanguage="en", autoSelectAudio="1",
                                       defaultSubtitleLanguage="en", subtitleMode="1",
                                       thumb=f"https://plex.tv/users/{account_id:08x}/avatar")
            return root

    def history_rows(self, query: list[tuple[str, str]]) -> list[HistoryRow]:
        """``GET /status/sessions/history/all`` (plexapi ``PlexServer.history``): ``sort=viewedAt:desc``, filters
        ``accountID``, ``librarySectionID``, ``metadataItemID`` and ``viewedAt>`` (plexapi's ``mindate``, "min
        datetime"). Rows outlive their item (``PlexHistory.source()`` returns None then)."""
        with self.lock:
            rows = list(self.rows)
        for key, value in query:
            if key == "accountID":
                rows = [row for row in rows if row.account_id == int(value)]
            elif key == "librarySectionID":
                rows = [row for row in rows if row.section_id == int(value)]
            elif key == "metadataItemID":
                rows = [row for row in rows if row.rating_key == int(value)]
            elif _VIEWED_AT_KEY.match(key):
                symbols = _VIEWED_AT_KEY.match(key).group(1)
                rows = [row for row in rows if _compare(symbols, row.viewed_stamp, int(value))]
        sort = dict(query).get("sort", "viewedAt:desc")
        descending = sort.endswith(":desc")
        return sorted(rows, key=lambda row: (row.viewed_stamp, row.history_id), reverse=descending)

    def history_xml(self, rows: list[HistoryRow], total: int, offset: int) -> ElementTree.Element:
        """``<Video historyKey ratingKey key viewedAt accountID deviceID …>`` (plexapi ``base.PlexHistory``), paged with
        ``totalSize`` (plexapi's ``fetchItems`` stops after the first page without it)."""
        root = xml.container(size=len(rows), totalSize=total, offset=offset)
        for row in rows:
            ElementTree.SubElement(root, "Video", {
                "historyKey": f"/status/sessions/history/{row.history_id}", "key": f"/library/metadata/{row.rating_key}",
                "ratingKey": str(row.rating_key), "librarySectionID": str(row.section_id), "title": row.title,
                "type": "movie", "thumb": f"/library/metadata/{row.rating_key}/thumb/1732300000",
                "viewedAt": str(row.viewed_stamp), "accountID": str(row.account_id), "deviceID": str(row.device_id)})
        return root

    def delete_row(self, history_id: int) -> bool:
        """``DELETE /status/sessions/history/<id>`` (``PlexHistory.delete``)."""
        with self.lock:
            kept = [row for row in self.rows if row.history_id != history_id]
            found = len(kept) != len(self.rows)
            self.rows = kept
            return found

    def unscrobble(self, rating_key: int) -> None:
        with self.library.lock:
            item = self.library.item(rating_key)
            for name in ("viewCount", "lastViewedAt", "viewOffset"):
                item.fields.pop(name, None)


def _marks_without_history(version: str) -> bool:
    numbers = []
    for part in version.split("-", 1)[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers) >= MARKED_PLAYED_WITHOUT_HISTORY


def _compare(symbols: str, actual: int, bound: int) -> bool:
    """``viewedAt>=N`` (key ``viewedAt>``) is "at or after", as plexapi's ``mindate`` documents; ``>>``/``<<``
    are the strict forms of Plex's media-query grammar."""
    return {">": actual >= bound, ">>": actual > bound, "<": actual <= bound, "<<": actual < bound,
            "": actual == bound}.get(symbols, False)


# -- routes ------------------------------------------------------------------------------------------

class WatchedPlex(Protocol):
    """The emulator as the watch-state routes see it (``emulators.plex.server.PlexEmulator`` is one)."""

    library: PlexLibrary
    watch: PlexWatchState


def _library_item_key(emu: WatchedPlex, request: RecordedRequest) -> int | None | Answer:
    """The ``key`` of a scrobble/progress request, after checking the provider identifier: without
    ``identifier=com.plexapp.plugins.library`` or with another one, 400 (plexapi always sends the library's, and a
    request naming no provider is not one PMS can route to the library)."""
    if request.param("identifier") != xml.LIBRARY:
        return BAD_REQUEST
    key = request.param("key") or ""
    if not key.isdigit():
        return BAD_REQUEST
    return int(key) if int(key) in emu.library.items else NOT_FOUND


def _scrobble(emu: WatchedPlex, request: RecordedRequest, played: bool) -> Answer:
    """``GET /:/scrobble`` / ``/:/unscrobble`` with ``key`` and ``identifier``
    (plexapi ``mixins.PlayedUnplayedMixin``)."""
    key = _library_item_key(emu, request)
    if isinstance(key, tuple):
        return key
    if played:
        emu.watch.mark_played(key)
    else:
        emu.watch.unscrobble(key)
    return EMPTY


def _progress(emu: WatchedPlex, request: RecordedRequest) -> Answer:
    """``GET /:/progress?key&identifier&time&state`` (``base.Playable.updateProgress``): the owner's resume point in
    milliseconds; "setting the time to 0 will not work" (its docstring), so 0 changes nothing."""
    key = _library_item_key(emu, request)
    if isinstance(key, tuple):
        return key
    raw = request.param("time") or ""
    if not raw.lstrip("-").isdigit():
        return BAD_REQUEST
    if int(raw) > 0:  # "setting the time to 0 will not work" (plexapi updateProgress)
        emu.watch.set_offset(key, int(raw))
    return EMPTY


def _history(emu: WatchedPlex, request: RecordedRequest) -> Answer:
    try:
        rows = emu.watch.history_rows(request.query)
    except ValueError:
        return BAD_REQUEST
    start, size = paging(request.headers, request.param)
    shown, total = page(rows, start, size, request.param("limit"))
    return 200, xml.to_bytes(emu.watch.history_xml(shown, total, start))


def route_watch_state(emu: WatchedPlex, request: RecordedRequest) -> Answer | None:
    """The answer for a watch-state request, or None for every other route."""
    path, method = request.path.rstrip("/"), request.method
    if path == "/accounts" and method == "GET":
        return 200, xml.to_bytes(emu.watch.accounts_xml())
    if path == "/status/sessions/history/all" and method == "GET":
        return _history(emu, request)
    deleted = re.match(r"^/status/sessions/history/(\d+)$", path)
    if deleted and method == "DELETE":
        return EMPTY if emu.watch.delete_row(int(deleted.group(1))) else NOT_FOUND
    if path in ("/:/scrobble", "/:/unscrobble") and method == "GET":
        return _scrobble(emu, request, played=path == "/:/scrobble")
    if path == "/:/progress" and method == "GET":
        return _progress(emu, request)
    return None
