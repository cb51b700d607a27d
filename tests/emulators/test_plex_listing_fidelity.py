"""Listing fidelity of the Plex emulator, through the real plexapi 4.18.3: the order of an unsorted listing, the
sorts PMS takes (and the ones it refuses), and a file moved under an existing item by a scan."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from plexapi.exceptions import BadRequest
from plexapi.server import PlexServer

import emulators.plex.routes as routes
from emulators.plex.server import PlexEmulator


def _titled(emu: PlexEmulator, section_id: int, titles: str) -> dict[str, int]:
    return {title: emu.add_item(section_id, f"/data/stash/{title}.mp4", 1, title, added_stamp=1_700_000_000 + n)
            for n, title in enumerate(titles)}


def test_an_unsorted_listing_is_ordered_by_title(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _titled(emu, section_id, "dbca")
    emu.set_field(keys["b"], "titleSort", "zz")  # the sort title wins over the title
    assert [m.title for m in plex.library.section("Stash").all()] == ["a", "c", "d", "b"]
    emu.set_field(keys["a"], "title", "e")  # a rename moves the item
    assert [m.title for m in plex.library.section("Stash").all()] == ["c", "d", "e", "b"]


def test_rating_key_and_added_at_sorts_are_honoured(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _titled(emu, section_id, "dbca")
    section = plex.library.section("Stash")
    by_key = sorted(keys.values())
    assert [m.ratingKey for m in section.search(sort="id")] == by_key  # plexapi's manual sort "Rating Key"
    assert [m.ratingKey for m in section.search(sort="id:desc")] == by_key[::-1]
    emu.set_field(keys["c"], "addedAt", "1700000000")  # same addedAt as "d": ratingKey breaks the tie
    raw = plex.query(f"/library/sections/{section_id}/all?type=1&sort=addedAt:asc,id:asc")
    assert [v.attrib["title"] for v in raw] == ["d", "c", "b", "a"]


@pytest.mark.parametrize("sort", ["bogus", "addedAt:sideways", "movie.file:asc"])
def test_an_unknown_sort_is_refused(emu: PlexEmulator, plex: PlexServer, section_id: int, sort: str) -> None:
    _titled(emu, section_id, "ab")
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        plex.query(f"/library/sections/{section_id}/all?type=1&sort={sort}")


def test_a_scan_moves_a_file_under_its_existing_item(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    key = emu.add_item(section_id, "/data/stash/inbox/a.mp4", 10, "a", added_stamp=1_700_000_000)
    before = plex.fetchItem(key)
    emu.move_file(key, "/data/stash/sorted/a.mkv", size=12)  # moved and upgraded on disk
    assert plex.fetchItem(key).locations == ["/data/stash/inbox/a.mp4"]  # not until Plex scans it
    emu.library.scan(section_id, "/data/stash/inbox")
    assert plex.fetchItem(key).locations == ["/data/stash/inbox/a.mp4"]  # a scan elsewhere does not see it
    plex.library.section("Stash").update(path="/data/stash/sorted")
    after = plex.fetchItem(key)
    assert (after.ratingKey, after.addedAt, after.locations) == (key, before.addedAt, ["/data/stash/sorted/a.mkv"])
    assert after.media[0].parts[0].size == 12 and after.updatedAt > before.updatedAt
    assert len(plex.library.section("Stash").all()) == 1


def test_the_routes_need_nothing_from_the_server_module() -> None:
    """No import circle: plex_server imports plex_routes, so plex_routes (even for type hints) must not import
    plex_server."""
    tree = ast.parse(Path(routes.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "emulators.plex.server" not in imported
