"""Fidelity of the Plex emulator's writing behaviours, through the real plexapi 4.18.3: tag spellings reused
server-wide, the two tag-list semantics, and the reverse-proxy mode's nginx limits."""

from __future__ import annotations

import pytest
import requests
from plexapi.exceptions import BadRequest
from plexapi.server import PlexServer

from emulators.plex.proxy import ProxyLimits
from emulators.plex.server import PlexEmulator
from tests.emulators.conftest import TOKEN


def _movie(emu: PlexEmulator, plex: PlexServer, section_id: int, name: str):
    rating_key = emu.add_item(section_id, f"/data/stash/{name}.mp4", 10, name)
    return plex.fetchItem(rating_key)


def test_a_tag_in_use_anywhere_lends_its_spelling(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    other_section = emu.add_section("Other", ["/data/other"])
    elsewhere = emu.add_item(other_section, "/data/other/x.mp4", 1, "x")
    emu.set_tags(elsewhere, "genre", ["Action"])
    movie = _movie(emu, plex, section_id, "a")
    movie.addGenre("action")
    assert [genre.tag for genre in movie.reload().genres] == ["Action"]


def test_an_old_spelling_removed_first_lets_a_new_one_in(emu: PlexEmulator, plex: PlexServer,
                                                         section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "a")
    movie.addGenre("Action")
    movie.reload().editTags("genre", ["action"], remove=False)  # existing "Action" + "action" in one request
    assert [genre.tag for genre in movie.reload().genres] == ["Action"]
    movie.batchEdits().removeGenre("Action").addGenre("action").saveEdits()  # one request: still in use then
    assert [genre.tag for genre in movie.reload().genres] == ["Action"]
    movie.removeGenre("Action")
    movie.reload().addGenre("action")  # a later request: nobody carries "Action" any more
    assert [genre.tag for genre in movie.reload().genres] == ["action"]


def test_an_indexed_list_replaces_the_items_list_so_a_list_in_parts_keeps_its_last_part(
        emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    """plexapi PR #151: each indexed list replaces the item's list of that type (no server is known to add)."""
    movie = _movie(emu, plex, section_id, "a")
    movie.edit(**{"genre[0].tag.tag": "A", "genre[1].tag.tag": "B"})
    movie.edit(**{"genre[2].tag.tag": "C", "genre[3].tag.tag": "D"})
    assert [genre.tag for genre in movie.reload().genres] == ["C", "D"]
    movie.addGenre("E")  # plexapi re-sends the existing names with the new one for that reason
    assert [genre.tag for genre in movie.reload().genres] == ["C", "D", "E"]


def test_directly_plex_answers_400_to_a_request_line_over_its_limit(emu: PlexEmulator, plex: PlexServer,
                                                                      section_id: int) -> None:
    """Kometa-Team/Kometa#2284: a real PMS answered 400 to a ~35 KB edit; far longer than a proxy's 8 KiB
    goes through."""
    movie = _movie(emu, plex, section_id, "a")
    movie.editSummary("x" * 30000)
    assert len(movie.reload().summary) == 30000 and emu.refused_lines == []
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        movie.editSummary("y" * 35000)
    assert len(emu.refused_lines) == 1 and movie.reload().summary == "x" * 30000


def test_behind_a_proxy_a_long_request_line_is_414_with_nginx_page(emu: PlexEmulator, plex: PlexServer,
                                                                   section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "a")
    emu.proxy = ProxyLimits()
    with pytest.raises(BadRequest, match=r"^\(414\)"):
        movie.editSummary("x" * 8200)
    answer = requests.put(f"{emu.url}/library/sections/{section_id}/all?summary.value={'y' * 8200}",
                          headers={"X-Plex-Token": TOKEN}, timeout=5)
    assert answer.status_code == 414 and b"<center>nginx</center>" in answer.content
    movie.editSummary("x" * 7000)  # fits
    assert len(movie.reload().summary) == 7000 and [status for status, _ in emu.proxy.refused] == [414, 414]


def test_behind_a_proxy_a_big_upload_is_413_and_never_reaches_plex(emu: PlexEmulator, plex: PlexServer,
                                                                   section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "a")
    emu.proxy = ProxyLimits(body_bytes=1000)
    with pytest.raises(BadRequest, match=r"^\(413\)"):
        movie.uploadPoster(filepath=b"\xff\xd8\xff" + b"\0" * 1000)
    movie.uploadPoster(filepath=b"\xff\xd8\xff" + b"\0" * 900)
    assert len(emu.item(movie.ratingKey).posters) == 1 and emu.count("POST") == 1
