"""List a Plex library fast: raw XML pages → media parts (plexapi objects are too slow for 100k items).

One paged listing per library builds the path index; later refreshes ask only for items added or changed since
the newest ones known (``addedAt>>=``, ``updatedAt>>=``), so matching a scene costs no request at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator
from xml.etree.ElementTree import Element

from plex.errors import PlexRejected
from validation.index_record import IndexedPart

PAGE_SIZE = 2000
# Scalars a list view carries in full (tags are truncated there, so none are read from it).
SUMMARY_FIELDS = ("title", "summary", "tagline", "studio", "year", "originallyAvailableAt", "userRating",
                  "updatedAt", "titleSort", "contentRating")


@dataclass(frozen=True)
class ItemSummary:
    rating_key: int
    section_id: int
    updated_at: int
    fields: dict[str, str] = field(default_factory=dict)


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


# Page in an order nothing edits: Plex's default order is by title, so a title written during a listing would move
# items across page boundaries (one listed twice, another missed). ``id`` is the ratingKey, a sort PMS honours
# without advertising it (plexapi library.py ``_manualSorts``); new items, with the newest addedAt and the highest
# ratingKey, land at the end.
LISTING_SORT = "addedAt:asc,id:asc"
# Should a server refuse the unadvertised ratingKey sort (400), addedAt alone, which every movie section's Meta
# advertises, still keeps title edits from reordering the listing; the page-overlap check catches the rest.
FALLBACK_SORT = "addedAt:asc"
# How far back a page boundary is looked for when it moved: items listed before it that left the listing's order
# meanwhile (in updatedAt order, every item a push edits moves to the end) shift it back by one each.
REWIND = 500


class PagedListing:
    """One section listing, read page by page in :data:`LISTING_SORT` order (or ``sorts``, tried in turn).

    Every page after the first starts one item early: that item must be the previous page's last one. When it
    is found a little earlier instead, items before it left the order (edited, deleted) and the listing goes on
    right after it; anywhere else, something before it was added or moved while the listing was read and an
    item may have been skipped. After iterating, ``consistent`` is False when that happened or the library
    shrank meanwhile; a listing that is not consistent must not be used to forget items. ``moved_after`` is the last item listed
    before the first boundary that moved (anything skipped there sorts after it).

    ``resume=(position, ratingKey)`` continues an earlier listing of the same query: its first request starts at
    that item, which must still be there (else ``resumed`` is False and nothing is yielded), so the pages read
    are only those holding what came after it. ``end`` is (position, ratingKey) after the last item listed."""

    def __init__(self, client: Any, section_id: int, *, query: str = "", page_size: int | None = None,
                 sorts: tuple[str, ...] = (LISTING_SORT, FALLBACK_SORT),
                 resume: tuple[int, str] | None = None) -> None:
        self.client = client
        self.section_id, self.query = int(section_id), query
        self.sorts = sorts
        self.sort = sorts[0]
        self.page_size = max(1, int(page_size or PAGE_SIZE))
        self.resume = resume
        self.consistent, self.resumed = True, True
        self.moved_after: dict[str, str] | None = None
        self.end: tuple[int, str] | None = resume

    def _page(self, start: int, size: int) -> Element | None:
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
        while True:
            try:
                return self.client.query(f"/library/sections/{self.section_id}/all?type=1&sort={self.sort}"
                                         f"{self.query}", headers=headers)
            except PlexRejected as exc:
                if exc.status != 400 or self.sort == self.sorts[-1]:
                    raise
                self.sort = self.sorts[self.sorts.index(self.sort) + 1]

    def _rewound(self, start: int, last_key: str) -> tuple[Element | None, list[Element], int] | None:
        """The last item listed, looked for up to :data:`REWIND` places before where it was, with what follows
        it: (page, the videos after it, the position of the first of them); None when it is not there."""
        first = max(0, start - 1 - REWIND)
        page = self._page(first, start - first + self.page_size)
        videos = [] if page is None else [child for child in page if child.tag == "Video"]
        keys = [video.attrib.get("ratingKey") for video in videos[:start - first]]
        if last_key not in keys:
            return None
        at = keys.index(last_key)
        return page, videos[at + 1:], first + at + 1

    def __iter__(self) -> Iterator[Element]:
        for videos in self.pages():
            yield from videos

    def pages(self) -> Iterator[list[Element]]:
        """The listing's Video elements, one list per page (a page's XML is let go before the next is read)."""
        start, last_key = self.resume if self.resume is not None else (0, None)
        first_total, previous = None, None
        while True:
            overlap = 1 if last_key is not None else 0
            page = self._page(start - overlap, self.page_size + overlap)
            videos = [] if page is None else [child for child in page if child.tag == "Video"]
            if overlap and videos and videos[0].attrib.get("ratingKey") == last_key:
                videos = videos[1:]
            elif overlap and (rewound := self._rewound(start, last_key)) is not None:
                page, videos, start = rewound  # items before it left (edited to the end, deleted): nothing skipped
            elif overlap and previous is None:
                self.resumed = False  # the item to resume after moved or is gone: nothing here can be placed
                return
            elif overlap:
                self.consistent = False  # the page boundary moved: keep what is there, an item may be missing
                self.moved_after = self.moved_after or previous
            total = _int(page.attrib.get("totalSize"), -1) if page is not None else -1
            total = None if total < 0 else total
            first_total = total if first_total is None else first_total
            if total is not None and first_total is not None and total < first_total:
                self.consistent = False  # an item deleted before the current page shifted the rest back
            del page
            start += len(videos)
            if videos:
                previous = dict(videos[-1].attrib)
                last_key = previous.get("ratingKey")
                self.end = (start, last_key) if last_key else None
            more = start < total if total is not None else len(videos) >= self.page_size
            yield videos
            if not videos or not more:
                return
            del videos


@dataclass
class Listing:
    """Every media part a listing returned, and whether the listing can be trusted to be complete; ``end`` is
    where a later listing of the same query can resume (see :class:`PagedListing`)."""

    parts: list[IndexedPart]
    consistent: bool
    end: tuple[int, str] | None = None
    resumed: bool = True
    moved_after_updated_at: int | None = None


# The updatedAt listing pages in updatedAt order: an item edited while it is read moves to the end, and an item a
# moved page boundary skipped sorts at or after the last one listed before it (plexapi ``_manualSorts`` has
# updatedAt and id); a server refusing that falls back to the addedAt orders.
UPDATED_SORTS = ("updatedAt:asc,id:asc", LISTING_SORT, FALLBACK_SORT)


class PartPages:
    """A listing's media parts, one list of IndexedPart per page (the whole listing is never held at once);
    once read, :meth:`outcome` says what :class:`Listing` says. Arguments as for :func:`list_parts`."""

    def __init__(self, client: Any, section_id: int, *, added_since: int | None = None,
                 updated_since: int | None = None, page_size: int | None = None,
                 resume: tuple[int, str] | None = None, settled_before: int | None = None) -> None:
        query = f"&addedAt>>={int(added_since)}" if added_since is not None else ""
        query += f"&updatedAt>>={int(updated_since)}" if updated_since is not None else ""
        sorts = UPDATED_SORTS if updated_since is not None else (LISTING_SORT, FALLBACK_SORT)
        self.section_id, self.settled_before = int(section_id), settled_before
        self.listing = PagedListing(client, section_id, query=query, page_size=page_size, sorts=sorts, resume=resume)
        self.settled_end, self.position = resume, resume[0] if resume is not None else 0

    def __iter__(self) -> Iterator[list[IndexedPart]]:
        for videos in self.listing.pages():
            yield [part for video in videos for part in self._parts(video)]

    def _parts(self, video: Element) -> Iterator[IndexedPart]:
        rating_key = _int(video.attrib.get("ratingKey"))
        added_at, updated_at = _int(video.attrib.get("addedAt")), _int(video.attrib.get("updatedAt"))
        self.position += 1
        if self.settled_before is not None and updated_at < self.settled_before:
            self.settled_end = (self.position, str(rating_key))
        for part in video.iter("Part"):
            file = part.attrib.get("file")
            if file:
                size = _int(part.attrib.get("size"), -1)
                yield IndexedPart(rating_key, self.section_id, file, size if size >= 0 else None, added_at, updated_at)

    def outcome(self, parts: list[IndexedPart]) -> Listing:
        listing = self.listing
        in_update_order = listing.sort == UPDATED_SORTS[0]
        moved_after = _int(listing.moved_after.get("updatedAt")) if listing.moved_after and in_update_order else None
        end = listing.end if self.settled_before is None else self.settled_end if in_update_order else None
        return Listing(parts, listing.consistent, end, listing.resumed, moved_after)


def list_parts(client: Any, section_id: int, **kwargs: Any) -> Listing:
    """One IndexedPart per media part (an item with several files yields several): the whole section, or only
    items added (``added_since``: ``addedAt>>=``) or changed (``updated_since``: ``updatedAt>>=``; a moved,
    renamed or upgraded file keeps its item and addedAt, only its Part and the item's updatedAt change) since a
    time; ``resume`` continues an earlier listing of the same query after its last item. With ``settled_before``
    (updatedAt listings), the listing's ``end`` is after the last item updated before that time: an edit made
    later moves its item past it, so a pass resuming there lists it again, while items stamped since may still
    be joined by late writes. ``page_size`` overrides :data:`PAGE_SIZE`."""
    pages = PartPages(client, section_id, **kwargs)
    return pages.outcome([part for page in pages for part in page])


def list_item_summaries(client: Any, section_id: int, *, page_size: int | None = None) -> Iterator[ItemSummary]:
    """Per item, the scalar fields of the list view (for reconcile's drift check, no detail reads)."""
    for video in PagedListing(client, section_id, page_size=page_size):
        fields = {name: video.attrib[name] for name in SUMMARY_FIELDS if name in video.attrib}
        yield ItemSummary(_int(video.attrib.get("ratingKey")), int(section_id), _int(video.attrib.get("updatedAt")),
                          fields)
