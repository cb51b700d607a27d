"""Plex's watch state through plexapi on PlexSync's client: accounts, play history, resume points, star ratings,
and marking an item played.

plexapi parses ``viewedAt`` into a naive local ``datetime``, which is ambiguous for an hour each autumn; the
epoch seconds Plex sent are read from the element instead, so a play keeps its exact instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from plex.client import PlexClient
from plex.errors import PlexConfigError
from plex.library_index import PagedListing
from validation.settings.names import mention

OWNER_ACCOUNT_ID = 1  # PMS's id for the server owner (plex-api.md, "Watch state")
LIBRARY_IDENTIFIER = "com.plexapp.plugins.library"
# From PMS 1.40.0.7998 marking a movie played writes no view-history entry ("No longer create a view history
# entry for items marked as played", python-plexapi PR #1366; its test_history_Movie asserts none since).
MARKED_PLAYED_WITHOUT_HISTORY = (1, 40, 0, 7998)


@dataclass(frozen=True)
class HistoryEntry:
    rating_key: int
    account_id: int
    viewed_stamp: int  # Plex's viewedAt, as it sent it


def account_ids(client: PlexClient, names: Iterable[str]) -> dict[int, str]:
    """Account id → name for the names given (case-insensitive); no names: the server owner only."""
    wanted = [name.strip() for name in names if name.strip()]
    if not wanted:
        return {OWNER_ACCOUNT_ID: "owner"}
    server = client.server
    accounts = client.call(server.systemAccounts)
    by_name = {str(account.name or "").casefold(): account for account in accounts}
    missing = [name for name in wanted if name.casefold() not in by_name]
    if missing:
        known = ", ".join(str(account.name) for account in accounts if account.name) or "none"
        raise PlexConfigError(f"{mention('watch_history_accounts')}: no Plex account named {', '.join(missing)}; "
                              f"accounts on this server: {known}")
    return {int(by_name[name.casefold()].id): str(by_name[name.casefold()].name) for name in wanted}


def _epoch(item: Any) -> int | None:
    raw = getattr(item, "_data", None)
    text = raw.attrib.get("viewedAt") if raw is not None else None
    if text and text.lstrip("-").isdigit():
        return int(text)
    moment = getattr(item, "viewedAt", None)
    return int(moment.timestamp()) if moment is not None else None


def play_history(client: PlexClient, *, account_id: int | None = None, section_id: int | None = None,
                 rating_key: int | None = None, since_stamp: int | None = None) -> list[HistoryEntry]:
    """``GET /status/sessions/history/all`` through plexapi's ``history()`` (every page), newest first."""
    server = client.server
    mindate = datetime.fromtimestamp(since_stamp, timezone.utc) if since_stamp is not None else None
    items = client.call(lambda: server.history(mindate=mindate, ratingKey=rating_key, accountID=account_id,
                                               librarySectionID=section_id))
    entries = []
    for item in items:
        viewed_stamp = _epoch(item)
        if viewed_stamp is None or item.ratingKey is None or item.accountID is None:
            continue  # a row Plex wrote without an item or account is no play we can place
        entries.append(HistoryEntry(int(item.ratingKey), int(item.accountID), viewed_stamp))
    return entries


@dataclass(frozen=True)
class ItemState:
    """The token owner's state of one item as a library's list view shows it (plex-api.md §2.3; a live
    capture of ``/library/sections/1/all`` carries ``viewOffset``, ``userRating`` and ``lastRatedAt`` on its
    items: LukeHagar/plex-api-spec 27f81a04^ tests/paths/library/[sectionKey]/get-library-all.spec.ts)."""

    rating_key: int
    view_offset_ms: int  # the resume point; 0 when none
    user_rating: float | None  # 0–10 (stars × 2); None when not rated
    rated_stamp: int | None  # ``lastRatedAt``, Plex's epoch seconds


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and value == value else None  # NaN is no rating


def item_states(client: PlexClient, section_id: int) -> Iterator[ItemState]:
    """Every movie of a library with the owner's resume point and star rating, read from the list view (one
    page per 2,000 items) rather than one request per item."""
    for video in PagedListing(client, section_id):
        attrib = video.attrib
        key, offset, rated = attrib.get("ratingKey", ""), attrib.get("viewOffset", ""), attrib.get("lastRatedAt", "")
        if key.isdigit():
            yield ItemState(int(key), int(offset) if offset.isdigit() else 0, _number(attrib.get("userRating")),
                            int(rated) if rated.isdigit() else None)


def server_version(client: PlexClient) -> tuple[int, ...] | None:
    """PMS's version as numbers (``1.41.3.9314-a0bfb8370`` → (1, 41, 3, 9314)); None when it gives none."""
    text = str(client.server.version or "")
    numbers = []
    for part in text.split("-", 1)[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers) or None


def marks_played_without_history(client: PlexClient) -> bool:
    """Whether marking an item played leaves Plex's play history alone on this server."""
    version = server_version(client)
    return version is not None and version >= MARKED_PLAYED_WITHOUT_HISTORY


def mark_played(client: PlexClient, rating_key: int) -> None:
    """plexapi's ``markPlayed``: ``GET /:/scrobble?key=<ratingKey>&identifier=com.plexapp.plugins.library``."""
    client.query("/:/scrobble", params={"key": int(rating_key), "identifier": LIBRARY_IDENTIFIER})
