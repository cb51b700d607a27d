"""Raw-XML listing: paged by container headers, one IndexedPart per media part, incremental by addedAt."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from emulators.plex_server import PlexEmulator
from plex.client import PlexClient
from plex.library_index import IndexedPart, list_item_summaries, list_parts


def test_pages_through_a_library(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=1000 + n, title=f"t{n}", added_at=100 + n)
            for n in range(7)]
    client.probe()
    emu.reset_requests()
    parts = list(list_parts(client, section_id, page_size=3))
    assert [p.rating_key for p in parts] == keys
    assert parts[2] == IndexedPart(keys[2], section_id, "/data/stash/2.mp4", 1002, 102, parts[2].updated_at)
    listings = [r for r in emu.requests if r.path == f"/library/sections/{section_id}/all"]
    assert len(listings) == 3 == emu.count()
    assert [r.headers.get("x-plex-container-start") for r in listings] == ["0", "3", "6"]
    assert {r.headers.get("x-plex-container-size") for r in listings} == {"3"}
    assert all(r.param("type") == "1" for r in listings)


def test_incremental_listing_asks_only_for_newer_items(emu: PlexEmulator, client: PlexClient,
                                                       section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/old.mp4", size=1, title="old", added_at=1_000)
    new = emu.add_item(section_id, file="/data/stash/new.mp4", size=2, title="new", added_at=2_000)
    parts = list(list_parts(client, section_id, added_since=1_500))
    assert [(p.rating_key, p.file) for p in parts] == [(new, "/data/stash/new.mp4")]


def test_missing_size_is_none(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/x.mp4", size=None, title="x")
    assert [p.size for p in list_parts(client, section_id)] == [None]


def test_empty_library(client: PlexClient, section_id: int) -> None:
    assert list(list_parts(client, section_id)) == []
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
    parts = list(list_parts(XmlPages(MULTI_PART), 3))
    assert parts == [IndexedPart(5, 3, "/m/cd1.mp4", 11, 10, 20), IndexedPart(5, 3, "/m/cd2.mp4", 12, 10, 20),
                     IndexedPart(5, 3, "/m/alt.mkv", None, 10, 20)]


def test_without_total_size_paging_continues_while_pages_are_full() -> None:
    full = '<MediaContainer><Video ratingKey="1"><Media><Part file="/a" size="1"/></Media></Video></MediaContainer>'
    empty = "<MediaContainer/>"
    pages = XmlPages(full, full, empty)
    assert len(list(list_parts(pages, 1, page_size=1))) == 2
    assert [call["X-Plex-Container-Start"] for call in pages.calls] == ["0", "1", "2"]
