"""The read that guards every write to Plex: one GET of the items a batch writes to, and the check of each item.

**The write-safety rule.** No scene is written to a Plex item unless a read of that item made in the same batch
shows one of the scene's files among its parts. The index can lag behind Plex (a move or a re-added file not
listed yet), and a write on its word alone would put one scene's title, cast and poster onto another scene's item.
``SyncEngine`` keeps it: :func:`read_items` before a batch's pushes, :func:`wrong_item` in each push before its
write; a scrobble checks its item the same way (``worker.viewing.scrobbles``). Cost: one GET per batch of 50 (also what a first push diffs against), one GET and one PUT for a single edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from plex.errors import PlexSyncError
from plex.library_index import ListedItem, listed_item
from plex.matcher import Matcher
from validation.stash_log import get_logger

log = get_logger("engine")


@dataclass(frozen=True)
class WrongItem:
    """A push's result when its item's read shows none of the scene's files (or shows the item in another library,
    ``found_in``): nothing was written. ``held``: the item as that read showed it."""

    rating_key: int
    section_id: int
    found_in: int
    held: ListedItem


def read_items(plex: Any, rating_keys: Sequence[int]) -> dict[int, Any]:
    """The items' detail views in one GET (``/library/metadata/1,2,…``), by ratingKey. Anything wrong with that
    read (an item deleted meanwhile answers 404) leaves each push to read its own item."""
    if not rating_keys:
        return {}
    try:
        return plex.fetch_details(list(rating_keys))
    except PlexSyncError as exc:
        log.debug("Batched detail read failed (%s); each scene reads its own item", exc)
        return {}


def wrong_item(matcher: Matcher, item: Any, rating_key: int, section_id: int, files: Sequence[Any],
               locations: Sequence[str]) -> WrongItem | None:
    """None when ``item`` (a detail view just read) is in the library the match named and holds one of the
    scene's ``files`` by the matcher's own rules; else the WrongItem to act on instead of writing."""
    found_in = getattr(item, "librarySectionID", None)
    found_in = int(found_in) if found_in not in (None, "") else int(section_id)
    held = listed_item(item._data, found_in)  # the XML plexapi read: every Media/Part, as a listing shows them
    if found_in == int(section_id) and matcher.holds(held.parts, files, locations):
        return None
    return WrongItem(int(rating_key), int(section_id), found_in, held)
