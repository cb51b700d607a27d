"""Raw-XML listing: paged by container headers in a stable order, one IndexedPart per media part, incremental by
addedAt and updatedAt, and a listing that changed while it was read is known to be inconsistent."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from emulators.plex_server import PlexEmulator
from plex.client import PlexClient
from plex.errors import PlexRejected
from plex.library_index import FALLBACK_SORT, LISTING_SORT, IndexedPart, list_item_summaries, list_parts


def test_pages_through_a_library(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=1000 + n, title=f"t{n}", added_at=100 + n)
            for n in range(7)]
    client.probe()
    emu.reset_requests()
    listing = list_parts(client, section_id, page_size=3)
    parts = listing.parts
    assert [p.rating_key for p in parts] == keys and listing.consistent
    assert parts[2] == IndexedPart(keys[2], section_id, "/data/stash/2.mp4", 1002, 102, parts[2].updated_at)
    listings = [r for r in emu.requests if r.path == f"/library/sections/{section_id}/all"]
    assert len(listings) == 3 == emu.count()
    # Each later page starts one item early: that item must be the one the previous page ended with.
    assert [r.headers.get("x-plex-container-start") for r in listings] == ["0", "2", "5"]
    assert [r.headers.get("x-plex-container-size") for r in listings] == ["3", "4", "4"]
    assert all(r.param("type") == "1" and r.param("sort") == LISTING_SORT == "addedAt:asc,id:asc"
               for r in listings)


def test_a_server_refusing_the_rating_key_sort_is_listed_by_added_at(emu: PlexEmulator, client: PlexClient,
                                                                     section_id: int) -> None:
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=n, title=f"t{n}", added_at=100 + n)
            for n in range(3)]
    emu.fail(r"sort=addedAt(:|%3A)asc(,|%2C)id", 400, times=None)
    listing = list_parts(client, section_id, page_size=2)
    assert [p.rating_key for p in listing.parts] == keys and listing.consistent
    sorts = [r.param("sort") for r in emu.requests if r.path.endswith("/all")]
    assert sorts == [LISTING_SORT, FALLBACK_SORT, FALLBACK_SORT]


def test_other_refusals_of_a_listing_are_not_retried(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.fail(r"/all$", 403, times=None)
    with pytest.raises(PlexRejected):
        list_parts(client, section_id)
    assert emu.count("GET", f"/library/sections/{section_id}/all") == 1


def test_incremental_listing_asks_only_for_newer_items(emu: PlexEmulator, client: PlexClient,
                                                       section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/old.mp4", size=1, title="old", added_at=1_000)
    new = emu.add_item(section_id, file="/data/stash/new.mp4", size=2, title="new", added_at=2_000)
    parts = list_parts(client, section_id, added_since=1_500).parts
    assert [(p.rating_key, p.file) for p in parts] == [(new, "/data/stash/new.mp4")]


def test_changed_items_are_listed_by_updated_at(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/still.mp4", size=1, title="still", added_at=1_000)
    moved = emu.add_item(section_id, file="/data/stash/moved.mp4", size=2, title="moved", added_at=1_000)
    since = emu.item(moved).updated_at + 1
    emu.move_file(moved, "/data/stash/sub/moved.mp4")
    emu.library.scan(section_id, None)
    parts = list_parts(client, section_id, updated_since=since).parts
    assert [(p.rating_key, p.file, p.added_at) for p in parts] == [(moved, "/data/stash/sub/moved.mp4", 1_000)]


def test_missing_size_is_none(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/x.mp4", size=None, title="x")
    assert [p.size for p in list_parts(client, section_id).parts] == [None]


def test_empty_library(client: PlexClient, section_id: int) -> None:
    assert list_parts(client, section_id).parts == []
    assert client.request_count == 2  # GET / and one listing


def test_summaries_carry_list_view_scalars(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="A title", studio="Acme", year="2021",
                      summary="Text", userRating="7.5", originallyAvailableAt="2021-05-04", tagline="Tag")
    (summary,) = list(list_item_summaries(client, section_id))
    assert (summary.rating_key, summary.section_id) == (rk, section_id)
    assert summary.updated_at == emu.item(rk).updated_at
    assert {k: summary.fields[k] for k in ("title", "studio", "year", "summary", "userRating",
                                             "originallyAvailableAt", "tagline")} == {
        "title": "A title", "studio": "Acme", "year": "2021", "summary": "Text", "userRating": "7.5",
        "originallyAvailableAt": "2021-05-04", "tagline": "Tag"}


class XmlPages:
    """A unit seam: hands out fixed XML pages the way PlexClient.query would (for shapes the emulator lacks)."""

    def __init__(self, *pages: str) -> None:
        self.pages = [ElementTree.fromstring(page) for page in pages]
        self.calls: list[dict] = []

    def query(self, path: str, headers: dict) -> ElementTree.Element:
        self.calls.append(headers)
        return self.pages[len(self.calls) - 1]


MULTI_PART = """<MediaContainer size="1" totalSize="1">
  <Video ratingKey="5" addedAt="10" updatedAt="20" type="movie">
    <Media><Part file="/m/cd1.mp4" size="11"/><Part file="/m/cd2.mp4" size="12"/></Media>
    <Media><Part file="/m/alt.mkv"/></Media>
  </Video>
</MediaContainer>"""


def test_every_part_of_a_multi_part_item_is_indexed() -> None:
    parts = list_parts(XmlPages(MULTI_PART), 3).parts
    assert parts == [IndexedPart(5, 3, "/m/cd1.mp4", 11, 10, 20), IndexedPart(5, 3, "/m/cd2.mp4", 12, 10, 20),
                     IndexedPart(5, 3, "/m/alt.mkv", None, 10, 20)]


def _videos(*keys: int) -> str:
    return "<MediaContainer>" + "".join(f'<Video ratingKey="{k}"><Media><Part file="/{k}" size="1"/></Media></Video>'
                                        for k in keys) + "</MediaContainer>"


def test_without_total_size_paging_continues_while_pages_are_full() -> None:
    pages = XmlPages(_videos(1), _videos(1, 2), _videos(2))
    listing = list_parts(pages, 1, page_size=1)
    assert [p.rating_key for p in listing.parts] == [1, 2] and listing.consistent
    assert [call["X-Plex-Container-Start"] for call in pages.calls] == ["0", "0", "1"]


def test_a_moved_page_boundary_makes_the_listing_inconsistent_and_keeps_what_it_saw() -> None:
    # Item 3 went missing and 2 is no longer at 1, nor anywhere before it (the third page looks back for it).
    pages = XmlPages(_videos(1, 2), _videos(4, 5), _videos(1, 4, 5), _videos(5))
    listing = list_parts(pages, 1, page_size=2)
    assert [p.rating_key for p in listing.parts] == [1, 2, 4, 5] and not listing.consistent


def test_a_boundary_moved_back_by_an_edit_before_it_is_found_again_and_nothing_is_skipped() -> None:
    """In updatedAt order an item edited while the listing is read moves to the end: the last item listed is
    found one place earlier, and the listing goes on right after it."""
    pages = XmlPages(_videos(1, 2), _videos(3, 4, 1), _videos(2, 3, 4, 1), _videos(1))  # 1 edited: [2, 3, 4, 1]
    listing = list_parts(pages, 1, page_size=2)
    assert [p.rating_key for p in listing.parts] == [1, 2, 3, 4, 1] and listing.consistent
    assert [call["X-Plex-Container-Start"] for call in pages.calls] == ["0", "1", "0", "3"]


def test_a_library_that_shrank_while_listed_is_inconsistent_though_the_boundaries_held() -> None:
    def page(total: int, *keys: int) -> str:
        return _videos(*keys).replace("<MediaContainer>", f'<MediaContainer totalSize="{total}">')

    listing = list_parts(XmlPages(page(4, 1, 2), page(3, 2, 3)), 1, page_size=2)
    assert [p.rating_key for p in listing.parts] == [1, 2, 3] and not listing.consistent
    grown = list_parts(XmlPages(page(3, 1, 2), page(4, 2, 3, 4)), 1, page_size=2)  # new items land at the end
    assert [p.rating_key for p in grown.parts] == [1, 2, 3, 4] and grown.consistent
