"""A PUT to a ratingKey the section no longer has may answer 200 and change nothing on a real server, so a
write that does not read the item first confirms it with one GET (or none, when this client read it moments ago).
The emulator offers both answers a real server may give."""

from __future__ import annotations

import pytest
from plexapi.exceptions import NotFound
from plexapi.server import PlexServer

from emulators.plex_server import PlexEmulator
from plex.client import PlexClient
from plex.errors import PlexItemGone
from tests.plex.conftest import TOKEN


def _delete(emu: PlexEmulator, rating_key: int) -> None:
    with emu.library.lock:
        del emu.library.items[rating_key]


def test_an_item_still_there_is_confirmed_with_one_get_then_believed(emu: PlexEmulator, client: PlexClient,
                                                                    section_id: int) -> None:
    key = emu.add_item(section_id, "/data/stash/a.mp4", 1, "a")
    client.probe()
    emu.reset_requests()
    client.confirm_item(key, section_id, within=300)
    client.confirm_item(key, section_id, within=300)
    assert [(r.method, r.path) for r in emu.requests] == [("GET", f"/library/metadata/{key}")]
    client.confirm_item(key, section_id, within=0)  # no longer recent: asked again
    assert emu.count("GET") == 2


def test_a_detail_read_counts_as_a_confirmation(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    key = emu.add_item(section_id, "/data/stash/a.mp4", 1, "a")
    client.fetch_detail(key)
    emu.reset_requests()
    client.confirm_item(key, section_id, within=300)
    assert emu.count() == 0


def test_a_deleted_item_is_gone(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    key = emu.add_item(section_id, "/data/stash/a.mp4", 1, "a")
    client.confirm_item(key, section_id, within=300)
    _delete(emu, key)
    with pytest.raises(PlexItemGone):
        client.confirm_item(key, section_id, within=0)


def test_an_item_moved_to_another_library_is_gone_from_this_one(emu: PlexEmulator, client: PlexClient,
                                                               section_id: int) -> None:
    other = emu.add_section("Other", ["/data/other"])
    key = emu.add_item(other, "/data/other/a.mp4", 1, "a")
    with pytest.raises(PlexItemGone, match="another library"):
        client.confirm_item(key, section_id, within=300)


@pytest.mark.parametrize("mode", ["not_found", "ignored"])
def test_the_emulator_answers_an_edit_of_a_deleted_item_either_way(emu: PlexEmulator, section_id: int,
                                                                   mode: str) -> None:
    emu.missing_item_edits = mode
    kept = emu.add_item(section_id, "/data/stash/kept.mp4", 1, "kept")
    gone = emu.add_item(section_id, "/data/stash/gone.mp4", 1, "gone")
    plex = PlexServer(emu.url, TOKEN, timeout=5)
    stale = plex.fetchItem(gone)
    _delete(emu, gone)
    if mode == "not_found":
        with pytest.raises(NotFound):
            stale.editTitle("new title")
    else:
        stale.editTitle("new title")  # 200, and nothing happens
        assert gone not in emu.library.items
    assert emu.item(kept).fields["title"] == "kept"
    with pytest.raises(NotFound):  # the item's own metadata answers 404 in both modes
        plex.fetchItem(gone)


def test_the_emulator_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError):
        PlexEmulator(missing_item_edits="maybe")
