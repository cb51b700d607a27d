"""Fidelity of the Plex emulator's writing behaviours, through the real plexapi 4.18.3: tag spellings reused
server-wide, the two tag-list semantics, and the reverse-proxy mode's nginx limits."""

from __future__ import annotations

import pytest
import requests
from plexapi.exceptions import BadRequest
from plexapi.server import PlexServer

from emulators.plex_proxy import ProxyLimits
from emulators.plex_server import PlexEmulator
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


@pytest.mark.parametrize("merge, expected", [(False, ["C", "D"]), (True, ["A", "B", "C", "D"])])
def test_indexed_lists_replace_or_add_up(emu: PlexEmulator, plex: PlexServer, section_id: int, merge: bool,
                                         expected: list[str]) -> None:
    emu.library.merge_tag_lists = merge
    movie = _movie(emu, plex, section_id, "a")
    movie.edit(**{"genre[0].tag.tag": "A", "genre[1].tag.tag": "B"})
    movie.edit(**{"genre[2].tag.tag": "C", "genre[3].tag.tag": "D"})
    assert [genre.tag for genre in movie.reload().genres] == expected


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
