"""List a Plex library fast: raw XML pages → media parts (plexapi objects are too slow for 100k items).

One paged listing per library builds the path index; later refreshes ask only for items added since the
newest one known (``addedAt>>=``), so matching a scene costs no request at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator
from xml.etree.ElementTree import Element

from validation.index_record import IndexedPart

PAGE_SIZE = 2000
# Scalars a list view carries in full (tags are truncated there, so none are read from it).
SUMMARY_FIELDS = ("title", "summary", "tagline", "studio", "year", "originallyAvailableAt", "userRating",
                  "updatedAt")


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


def iter_videos(client: Any, section_id: int, *, added_since: int | None = None,
                page_size: int = PAGE_SIZE) -> Iterator[Element]:
    """Every movie element of a library, page by page (container headers, as plexapi pages)."""
    path = f"/library/sections/{int(section_id)}/all?type=1"
    if added_since is not None:
        path += f"&addedAt>>={int(added_since)}"
    start = 0
    while True:
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(page_size)}
        page = client.query(path, headers=headers)
        videos = [] if page is None else [child for child in page if child.tag == "Video"]
        yield from videos
        start += len(videos)
        total = page.attrib.get("totalSize") if page is not None else None
        more = start < _int(total) if total not in (None, "") else len(videos) >= page_size
        if not videos or not more:
            return


def list_parts(client: Any, section_id: int, *, added_since: int | None = None,
               page_size: int = PAGE_SIZE) -> Iterator[IndexedPart]:
    """One IndexedPart per media part (an item with several files yields several)."""
    for video in iter_videos(client, section_id, added_since=added_since, page_size=page_size):
        rating_key = _int(video.attrib.get("ratingKey"))
        added_at, updated_at = _int(video.attrib.get("addedAt")), _int(video.attrib.get("updatedAt"))
        for part in video.iter("Part"):
            file = part.attrib.get("file")
            if file:
                size = _int(part.attrib.get("size"), -1)
                yield IndexedPart(rating_key, int(section_id), file, size if size >= 0 else None, added_at,
                                  updated_at)


def list_item_summaries(client: Any, section_id: int, *, page_size: int = PAGE_SIZE) -> Iterator[ItemSummary]:
    """Per item, the scalar fields of the list view (for reconcile's drift check, no detail reads)."""
    for video in iter_videos(client, section_id, page_size=page_size):
        fields = {name: video.attrib[name] for name in SUMMARY_FIELDS if name in video.attrib}
        yield ItemSummary(_int(video.attrib.get("ratingKey")), int(section_id), _int(video.attrib.get("updatedAt")),
                          fields)
