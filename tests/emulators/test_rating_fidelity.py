"""Fidelity of the emulators' ratings: plexapi's ``rate()`` against the Plex emulator, as a live server's capture
shows it, and Stash's ``sceneUpdate`` of ``rating100`` on Stash's real schema."""

from __future__ import annotations

import time

import pytest
from plexapi.exceptions import BadRequest
from plexapi.server import PlexServer

from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from emulators.stash.server import StashEmulator
from plex.history import item_states
from plex.library_index import PagedListing
from tests.conftest import TOKEN
from tests.emulators.test_schema_fidelity import real_schema  # noqa: F401  (the fixture)
from worker.viewing.ratings import RATING_DOCUMENTS

T0 = 1_760_000_000


@pytest.fixture()
def movie(emu: PlexEmulator, section_id: int) -> int:
    return emu.add_item(section_id, "/data/stash/a.mp4", 10, "A")


@pytest.fixture()
def client(emu: PlexEmulator, tmp_path) -> PlexClient:
    return PlexClient(emu.url, TOKEN, data_dir=tmp_path)


def listed(client: PlexClient, section_id: int, rating_key: int) -> dict:
    """The item's attributes in the section's list view, as PlexSync pages it."""
    return next(dict(video.attrib) for video in PagedListing(client, section_id)
                if video.attrib["ratingKey"] == str(rating_key))


def test_rate_shows_the_rating_and_when_on_list_and_detail_views(emu, plex: PlexServer, client, movie: int,
                                                                  section_id: int) -> None:
    emu.library.clock = lambda: T0
    updated = emu.item(movie).updated_stamp
    plex.fetchItem(movie).rate(7.5)
    detail = plex.fetchItem(movie)
    assert (detail.userRating, int(detail.lastRatedAt.timestamp())) == (7.5, T0)
    attributes = listed(client, section_id, movie)
    assert (attributes["userRating"], attributes["lastRatedAt"]) == ("7.5", str(T0))
    assert emu.item(movie).updated_stamp == updated  # the owner's rating is no metadata edit

    emu.library.clock = lambda: T0 + 60
    plex.fetchItem(movie).rate()  # plexapi sends -1: cleared
    attributes = listed(client, section_id, movie)
    assert "userRating" not in attributes and attributes["lastRatedAt"] == str(T0 + 60)
    assert plex.fetchItem(movie).userRating is None


def test_plexsync_reads_states_from_one_listing(emu, plex: PlexServer, client, movie: int, section_id: int) -> None:
    other = emu.add_item(section_id, "/data/stash/b.mp4", 11, "B")
    emu.library.clock = lambda: T0
    plex.fetchItem(other).rate(3)
    emu.reset_requests()
    states = {state.rating_key: state for state in item_states(client, section_id)}
    assert (states[other].user_rating, states[other].rated_stamp) == (3.0, T0)
    assert (states[movie].user_rating, states[movie].rated_stamp) == (None, None)
    assert emu.count("GET", f"/library/sections/{section_id}/all") == 1


def test_a_rating_outside_zero_to_ten_is_refused(emu, plex: PlexServer, movie: int) -> None:
    for bad in ("11", "-2", "abc"):
        with pytest.raises(BadRequest):
            plex.query(f"/:/rate?key={movie}&identifier=com.plexapp.plugins.library&rating={bad}",
                       method=plex._session.put)
    assert "userRating" not in emu.item(movie).fields


@pytest.mark.parametrize("name", sorted(RATING_DOCUMENTS))
def test_rating_documents_are_valid_against_stash(real_schema, name):  # noqa: F811
    from graphql import parse, validate

    assert validate(real_schema, parse(RATING_DOCUMENTS[name])) == []


def test_stash_scene_update_sets_and_clears_the_rating_and_moves_updated_at() -> None:
    def call(stash, variables):
        return stash.run_graphql({"query": RATING_DOCUMENTS["SET_RATING"], "variables": variables})[1]

    with StashEmulator() as stash:
        scene = stash.add_scene(title="T", rating100=40)
        before = stash.scene(scene)["updated_at"]
        time.sleep(0.01)
        answer = call(stash, {"input": {"id": scene, "rating100": 80}})["data"]["sceneUpdate"]
        assert answer["rating100"] == 80 and answer["updated_at"] > before
        assert stash.scene(scene)["title"] == "T"  # keys left out are left alone
        assert call(stash, {"input": {"id": scene, "rating100": None}})["data"]["sceneUpdate"]["rating100"] is None
        missing = call(stash, {"input": {"id": "999", "rating100": 10}})
        assert missing["data"]["sceneUpdate"] is None and "scene with id 999 not found" in missing["errors"][0]["message"]
        assert "invalid syntax" in call(stash, {"input": {"id": "x", "rating100": 1}})["errors"][0]["message"]
