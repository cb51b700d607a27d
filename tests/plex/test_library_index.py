"""Raw-XML listing: one sweep in (updatedAt, ratingKey) order, paged by key, one IndexedPart per media part, and
nothing passed over whatever Plex changes between pages.

Each page starts one place early, on an item already read, so an item that moves between pages is still seen."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from plex.errors import PlexRejected
from plex.library_index import SWEEP_SORT, IndexedPart, PagedListing, item_pages, list_item_summaries


def listed(client, section_id: int, **kwargs) -> list[IndexedPart]:
    return [part for page in item_pages(client, section_id, **kwargs) for item in page for part in item.parts]


def listing_requests(emu: PlexEmulator, section_id: int) -> list:
    return [r for r in emu.requests if r.path == f"/library/sections/{section_id}/all"]


def test_pages_through_a_library(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=1000 + n, title=f"t{n}", added_stamp=100 + n)
            for n in range(7)]
    client.probe()
    emu.reset_requests()
    parts = listed(client, section_id, page_size=3)
    assert [p.rating_key for p in parts] == keys
    assert parts[2] == IndexedPart(keys[2], section_id, "/data/stash/2.mp4", 1002, 102, parts[2].updated_stamp)
    listings = listing_requests(emu, section_id)
    assert len(listings) == 3 == emu.count()
    # Each later page starts one item early: that item must be one the sweep has read already.
    assert [r.headers.get("x-plex-container-start") for r in listings] == ["0", "2", "5"]
    assert [r.headers.get("x-plex-container-size") for r in listings] == ["3", "4", "4"]
    assert all(r.param("type") == "1" and r.param("sort") == SWEEP_SORT == "updatedAt:asc,id:asc"
               for r in listings)


def test_a_refused_listing_is_not_retried_with_another_order(emu: PlexEmulator, client: PlexClient,
                                                            section_id: int) -> None:
    emu.fail(r"/all$", 403, times=None)
    with pytest.raises(PlexRejected):
        listed(client, section_id)
    assert emu.count("GET", f"/library/sections/{section_id}/all") == 1


def test_a_sweep_since_a_time_lists_what_changed_then_or_later(emu: PlexEmulator, client: PlexClient,
                                                               section_id: int) -> None:
    still = emu.add_item(section_id, file="/data/stash/still.mp4", size=1, title="still", added_stamp=1_000)
    moved = emu.add_item(section_id, file="/data/stash/moved.mp4", size=2, title="moved", added_stamp=1_000)
    with emu.library.lock:
        emu.item(still).updated_stamp, emu.item(moved).updated_stamp = 5_000, 5_000
    emu.move_file(moved, "/data/stash/sub/moved.mp4")
    emu.library.scan(section_id, None)
    since = emu.item(moved).updated_stamp
    parts = listed(client, section_id, since_stamp=since)
    assert [(p.rating_key, p.file, p.added_stamp) for p in parts] == [(moved, "/data/stash/sub/moved.mp4", 1_000)]
    # Asked one second early: "is after" reads the same whether the server counts that second in or not.
    assert listing_requests(emu, section_id)[-1].param("updatedAt>>") == str(since - 1)


def test_missing_size_is_none(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.add_item(section_id, file="/data/stash/x.mp4", size=None, title="x")
    assert [p.size for p in listed(client, section_id)] == [None]


def test_empty_library(client: PlexClient, section_id: int) -> None:
    assert listed(client, section_id) == []
    assert client.request_count == 2  # GET / and one listing


def test_every_part_of_a_multi_part_item_is_listed(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    key = emu.add_item(section_id, file="/m/cd1.mp4", size=11, title="two parts", added_stamp=10)
    emu.library.add_part(key, "/m/cd2.mp4", 12)
    emu.library.add_part(key, "/m/alt.mkv", None)
    updated = emu.item(key).updated_stamp
    assert listed(client, section_id) == [IndexedPart(key, section_id, "/m/cd1.mp4", 11, 10, updated),
                                          IndexedPart(key, section_id, "/m/cd2.mp4", 12, 10, updated),
                                          IndexedPart(key, section_id, "/m/alt.mkv", None, 10, updated)]


def test_summaries_carry_list_view_scalars(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="A title", studio="Acme", year="2021",
                      summary="Text", userRating="7.5", originallyAvailableAt="2021-05-04", tagline="Tag")
    (summary,) = list(list_item_summaries(client, section_id))
    assert (summary.rating_key, summary.section_id) == (rk, section_id)
    assert summary.updated_stamp == emu.item(rk).updated_stamp
    assert {k: summary.fields[k] for k in ("title", "studio", "year", "summary", "userRating",
                                             "originallyAvailableAt", "tagline")} == {
        "title": "A title", "studio": "Acme", "year": "2021", "summary": "Text", "userRating": "7.5",
        "originallyAvailableAt": "2021-05-04", "tagline": "Tag"}


def _library(emu: PlexEmulator, section_id: int, count: int, stamp: int = 5_000) -> list[int]:
    """``count`` items all stamped with one second (a bulk import), listed by ratingKey within it."""
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=n, title=f"t{n}") for n in range(count)]
    with emu.library.lock:
        for key in keys:
            emu.item(key).updated_stamp = stamp
    return keys


def _after_page(emu: PlexEmulator, page: int, change) -> None:
    """Run ``change`` right after the listing's ``page``-th page (1-based) is answered."""
    answered = []

    def hook() -> None:
        answered.append(1)
        if len(answered) == page:
            change()

    emu.library.after_listing_page = hook


@pytest.mark.parametrize("where", [0, 1, 2])
def test_an_item_edited_between_pages_passes_nothing_over_and_comes_again(emu: PlexEmulator, client: PlexClient,
                                                                         section_id: int, where: int) -> None:
    """The edit moves it to the end of the order: every later item shifts back one place, so the next page's
    first place holds an item not read yet. The sweep asks again from the cursor's second instead."""
    keys = _library(emu, section_id, 6)
    _after_page(emu, 1, lambda: emu.set_field(keys[where], "title", "edited"))
    seen = [part.rating_key for part in listed(client, section_id, page_size=3)]
    assert seen == keys + [keys[where]]
    restart = listing_requests(emu, section_id)[2]  # after the page whose first place was not read yet
    assert (restart.headers.get("x-plex-container-start"), restart.param("updatedAt>>")) == ("0", "4999")


@pytest.mark.parametrize("gone", [1, 2, 3])
def test_items_deleted_between_pages_pass_nothing_over(emu: PlexEmulator, client: PlexClient, section_id: int,
                                                       gone: int) -> None:
    """One place of overlap covers one item gone; the key check covers any number."""
    keys = _library(emu, section_id, 7)

    def delete() -> None:
        for key in keys[:gone]:
            emu.library.remove_item(key)

    _after_page(emu, 1, delete)
    assert [part.rating_key for part in listed(client, section_id, page_size=3)] == keys


def test_items_edited_between_pages_pass_nothing_over(emu: PlexEmulator, client: PlexClient,
                                                      section_id: int) -> None:
    keys = _library(emu, section_id, 7)

    def edit() -> None:
        for key in keys[:2]:
            emu.set_field(key, "title", "edited")

    _after_page(emu, 1, edit)
    assert [part.rating_key for part in listed(client, section_id, page_size=3)] == keys + keys[:2]


def test_an_item_added_between_pages_is_listed(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    keys = _library(emu, section_id, 6)
    added = []
    _after_page(emu, 1, lambda: added.append(emu.add_item(section_id, file="/data/stash/new.mp4", size=1,
                                                          title="new")))
    assert [part.rating_key for part in listed(client, section_id, page_size=3)] == keys + added


class XmlPages:
    """A unit seam: hands out fixed XML pages the way PlexClient.query would (for shapes the emulator lacks)."""

    def __init__(self, *pages: str) -> None:
        self.pages = [ElementTree.fromstring(page) for page in pages]
        self.calls: list[dict] = []

    def query(self, path: str, headers: dict) -> ElementTree.Element:
        self.calls.append(headers)
        return self.pages[len(self.calls) - 1]


def _videos(*keys: int) -> str:
    return "<MediaContainer>" + "".join(f'<Video ratingKey="{k}"><Media><Part file="/{k}" size="1"/></Media></Video>'
                                        for k in keys) + "</MediaContainer>"


def test_without_total_size_paging_continues_while_pages_are_full() -> None:
    pages = XmlPages(_videos(1), _videos(1, 2), _videos(2))
    assert [video.attrib["ratingKey"] for video in PagedListing(pages, 1, page_size=1)] == ["1", "2"]
    assert [call["X-Plex-Container-Start"] for call in pages.calls] == ["0", "0", "1"]
