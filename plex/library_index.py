"""List a Plex library fast: raw XML pages → media parts (plexapi objects are too slow for 100k items).

Every listing is one sweep of a section in ``(updatedAt, ratingKey)`` order from a time on (all of it for a full
listing), resumed page after page by key, never by position (:class:`PagedListing`). Matching a scene then costs
no request at all: ``worker.sync.index_refresh`` writes what a sweep reads into the store's path index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple
from xml.etree.ElementTree import Element

from validation.index_record import IndexedPart

PAGE_SIZE = 2000
# The one order every listing pages in. ``id`` is the ratingKey: PMS honours both sorts without advertising them
# (plexapi library.py ``_manualSorts``: "available but not exposed on the Plex server"). Any change to an item
# moves its updatedAt forward, so an edit during a listing moves the item to the end of this order, where the
# sweep reads it again; nothing ever moves backwards, so nothing can slip behind the sweep.
SWEEP_SORT = "updatedAt:asc,id:asc"
# Scalars a list view carries in full (tags are truncated there, so none are read from it).
SUMMARY_FIELDS = ("title", "summary", "tagline", "studio", "year", "originallyAvailableAt", "userRating",
                  "updatedAt", "titleSort", "contentRating")

ItemKey = tuple[int, int]  # (updatedAt as a plex_stamp, ratingKey): where an item sorts in a sweep


@dataclass(frozen=True)
class ItemSummary:
    rating_key: int
    section_id: int
    updated_stamp: int
    fields: dict[str, str] = field(default_factory=dict)


class ListedItem(NamedTuple):
    """One item as a listing (or a detail read) shows it: every media part it has (none is possible)."""

    rating_key: int
    updated_stamp: int
    parts: list[IndexedPart]


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def item_key(video: Element) -> ItemKey:
    return _int(video.attrib.get("updatedAt")), _int(video.attrib.get("ratingKey"))


def listed_item(video: Element, section_id: int) -> ListedItem:
    """A Video element's media parts (an item with several files, cd1/cd2 or optimized versions, has several)."""
    rating_key, updated_stamp = _int(video.attrib.get("ratingKey")), _int(video.attrib.get("updatedAt"))
    added_stamp = _int(video.attrib.get("addedAt"))
    parts = []
    for part in video.iter("Part"):
        file = part.attrib.get("file")
        if file:
            size = _int(part.attrib.get("size"), -1)
            parts.append(IndexedPart(rating_key, int(section_id), file, size if size >= 0 else None, added_stamp,
                                     updated_stamp))
    return ListedItem(rating_key, updated_stamp, parts)


class PagedListing:
    """Every item of a section whose updatedAt is ``since_stamp`` or later, in :data:`SWEEP_SORT` order,
    as Plex has it when its page is read. An item Plex changes meanwhile comes again later, in its new state.

    The sweep remembers the key of the last item it read (the cursor), never a position. Each request after the
    first starts one place before where the previous page ended; that place must hold an item at or before the
    cursor. If it does not, items before it left the order (edited, so moved to the end, or deleted) and the
    sweep asks again from the cursor's second, from the top. Items at or before the cursor are never yielded
    twice, and since everything sorts in one fixed order, none can be passed over: sorted positions before an
    item at or before the cursor hold only items at or before it too."""

    def __init__(self, client: Any, section_id: int, *, since_stamp: int = 0, page_size: int | None = None) -> None:
        self.client = client
        self.section_id, self.since_stamp = int(section_id), int(since_stamp)
        self.page_size = max(1, int(page_size or PAGE_SIZE))

    def __iter__(self) -> Iterator[Element]:
        for videos in self.pages():
            yield from videos

    def _page(self, from_stamp: int, start: int, size: int) -> tuple[list[Element], int]:
        # ``>>=`` is "is after": asked one second early, the answer holds ``from_stamp`` whether the server reads
        # it as "later than" or "at or later than" (the extra second sorts before the cursor and is skipped).
        query = f"&updatedAt>>={from_stamp - 1}" if from_stamp > 0 else ""
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
        page = self.client.query(f"/library/sections/{self.section_id}/all?type=1&sort={SWEEP_SORT}{query}",
                                 headers=headers)
        if page is None:
            return [], -1
        return [child for child in page if child.tag == "Video"], _int(page.attrib.get("totalSize"), -1)

    def pages(self) -> Iterator[list[Element]]:
        """The listing's Video elements, one list per page (a page's XML is let go before the next is read);
        a page whose items were all read already is an empty list."""
        cursor: ItemKey = (self.since_stamp, 0)  # ratingKeys are positive: every item of ``since_stamp`` sorts after it
        from_stamp, start = self.since_stamp, 0  # the request's updatedAt floor, and the position in its answer
        while True:
            first = max(0, start - 1)
            size = self.page_size + (start - first)
            videos, total = self._page(from_stamp, first, size)
            if first < start and (not videos or item_key(videos[0]) > cursor):
                from_stamp, start = cursor[0], 0  # items before the boundary left the order: ask from the cursor
                continue
            fresh = [video for video in videos if item_key(video) > cursor]
            if fresh:
                cursor = item_key(fresh[-1])
            start = first + len(videos)
            more = start < total if total >= 0 else len(videos) >= size
            yield fresh
            if not more:
                return


def item_pages(client: Any, section_id: int, *, since_stamp: int = 0,
               page_size: int | None = None) -> Iterator[list[ListedItem]]:
    """Items changed (added, edited, moved, renamed, upgraded) at ``since_stamp`` or later, one list per page; a moved
    file keeps its item and addedAt, only its Part and the item's updatedAt change. ``since_stamp=0``: the whole
    section."""
    for videos in PagedListing(client, section_id, since_stamp=since_stamp, page_size=page_size).pages():
        yield [listed_item(video, section_id) for video in videos]


def list_item_summaries(client: Any, section_id: int, *, page_size: int | None = None) -> Iterator[ItemSummary]:
    """Per item, the scalar fields of the list view (for reconcile's drift check, no detail reads); an item
    edited while it is read comes again with its new fields."""
    for video in PagedListing(client, section_id, page_size=page_size):
        fields = {name: video.attrib[name] for name in SUMMARY_FIELDS if name in video.attrib}
        yield ItemSummary(_int(video.attrib.get("ratingKey")), int(section_id), _int(video.attrib.get("updatedAt")),
                          fields)
