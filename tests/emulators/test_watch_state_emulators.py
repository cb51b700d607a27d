"""Fidelity of the emulators' watch state: plexapi's history/markPlayed/updateProgress against the Plex emulator, and
stashapi's play mutations against the Stash emulator on Stash's real schema."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from plexapi.exceptions import BadRequest, NotFound
from plexapi.server import PlexServer
from plexapi.video import MovieHistory

from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from tests.conftest import TOKEN
from tests.emulators.test_schema_fidelity import real_schema  # noqa: F401  (the fixture)
from worker.viewing.stash_calls import PLAY_DOCUMENTS
from worker.viewing.scrobbles import SCROBBLE_DOCUMENTS

DOCUMENTS = {**PLAY_DOCUMENTS, **SCROBBLE_DOCUMENTS}

T0 = 1_760_000_000


@pytest.fixture()
def movie(emu: PlexEmulator, section_id: int) -> int:
    return emu.add_item(section_id, "/data/stash/a.mp4", 10, "A")


def test_accounts_are_plexapi_system_accounts_with_the_owner_as_one(emu, plex: PlexServer) -> None:
    alice = emu.watch.add_account("alice")
    accounts = {account.id: account.name for account in plex.systemAccounts()}
    assert accounts == {1: "owner", alice: "alice"}


def test_history_pages_filters_and_sorts_like_pms(emu, plex: PlexServer, movie: int, section_id: int) -> None:
    alice = emu.watch.add_account("alice")
    for n in range(250):  # plexapi asks in pages of 100; every page is read through totalSize
        emu.watch.play(movie, viewed_stamp=T0 + n, account_id=alice if n % 5 == 0 else 1)
    everything = plex.history()
    assert len(everything) == 250 and isinstance(everything[0], MovieHistory)
    assert [int(h._data.attrib["viewedAt"]) for h in everything] == sorted(range(T0, T0 + 250), reverse=True)
    assert len([r for r in emu.requests if r.path == "/status/sessions/history/all"]) == 3
    assert len(plex.history(accountID=alice)) == 50
    recent = plex.history(mindate=datetime.fromtimestamp(T0 + 240, timezone.utc), accountID=1)
    assert {int(h._data.attrib["viewedAt"]) for h in recent} == {T0 + n for n in range(240, 250) if n % 5}
    assert plex.history(librarySectionID=section_id + 1) == []
    first = everything[0]
    assert (first.ratingKey, first.accountID, first.historyKey.startswith("/status/sessions/history/")) == \
        (movie, 1, True)


def test_history_outlives_the_item_and_entries_can_be_deleted(emu, plex: PlexServer, movie: int) -> None:
    emu.watch.play(movie, viewed_stamp=T0)
    entry = plex.history()[0]
    entry.delete()
    assert plex.history() == []
    with pytest.raises(NotFound):
        plex.query("/status/sessions/history/999999", method=plex._session.delete)


def test_mark_played_and_progress_are_the_owners_watch_state(emu, plex: PlexServer, movie: int) -> None:
    item = plex.fetchItem(movie)
    assert (item.viewCount, item.viewOffset, item.isPlayed) == (0, 0, False)
    item.updateProgress(90_000)
    item.reload()
    assert item.viewOffset == 90_000
    item.updateProgress(0)  # "setting the time to 0 will not work" (plexapi)
    item.reload()
    assert item.viewOffset == 90_000
    item.markPlayed()
    item.reload()
    assert (item.viewCount, item.viewOffset, item.isPlayed) == (1, 0, True)
    assert item.lastViewedAt is not None
    assert item.history() == []  # PMS 1.40.0.7998+: no view-history entry (plexapi test_history_Movie, PR #1366)
    item.markUnplayed()
    item.reload()
    assert (item.viewCount, item.isPlayed) == (0, False)


def test_a_server_before_1_40_wrote_a_history_row_when_an_item_was_marked_played() -> None:
    with PlexEmulator(token=TOKEN, version="1.32.8.7639-fb6452ebf") as old:
        movie = old.add_item(old.add_section("Movies", ["/data"]), "/data/a.mp4", 10, "A")
        server = PlexServer(old.url, TOKEN, timeout=5)
        assert server.version == "1.32.8.7639-fb6452ebf"
        item = server.fetchItem(movie)
        item.markPlayed()
        assert [entry.ratingKey for entry in item.history()] == [movie]  # plexapi's test before PR #1366


def test_a_scrobble_must_name_the_library_and_an_existing_item(emu, plex: PlexServer, movie: int) -> None:
    with pytest.raises(BadRequest):
        plex.query(f"/:/scrobble?key={movie}")
    with pytest.raises(BadRequest):
        plex.query(f"/:/progress?key={movie}&identifier=com.example&time=5")
    with pytest.raises(NotFound):
        plex.query("/:/scrobble?key=999999&identifier=com.plexapp.plugins.library")
    assert emu.watch.plays_of(movie) == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_play_documents_are_valid_against_stash(real_schema, name):  # noqa: F811
    from graphql import parse, validate

    assert validate(real_schema, parse(DOCUMENTS[name])) == []


def stash_call(stash: StashEmulator, query: str, variables: dict) -> dict:
    return stash.run_graphql({"query": query, "variables": variables})[1]


def test_stash_adds_every_time_given_even_twice_and_counts_plays() -> None:
    with StashEmulator() as stash:
        scene = stash.add_scene()
        add = "mutation($id: ID!, $t: [Timestamp!]) { sceneAddPlay(id: $id, times: $t) { count history } }"
        answer = stash_call(stash, add, {"id": scene, "t": ["2025-10-09T08:53:20Z", "2025-10-09T10:53:20+02:00"]})
        assert answer["data"]["sceneAddPlay"]["count"] == 2  # the same instant twice: two plays
        assert stash_call(stash, add, {"id": scene, "t": None})["data"]["sceneAddPlay"]["count"] == 3  # now
        bad = stash_call(stash, add, {"id": scene, "t": ["2025-10-09 08:53:20"]})
        assert "not a valid Timestamp" in bad["errors"][0]["message"]
        missing = stash_call(stash, add, {"id": "999", "t": None})
        assert missing["data"] is None and "not found" in missing["errors"][0]["message"]


def test_stash_save_activity_sets_resume_and_adds_play_duration() -> None:
    with StashEmulator() as stash:
        scene = stash.add_scene()
        save = "mutation($id: ID!, $r: Float, $d: Float) { sceneSaveActivity(id: $id, resume_time: $r, playDuration: $d) }"
        stash_call(stash, save, {"id": scene, "r": 12.5, "d": 30.0})
        stash_call(stash, save, {"id": scene, "r": None, "d": 15.0})
        read = stash_call(stash, "query($id: ID) { findScene(id: $id) { resume_time play_duration play_count "
                                 "last_played_at } }", {"id": scene})["data"]["findScene"]
        assert read == {"resume_time": 12.5, "play_duration": 45.0, "play_count": 0, "last_played_at": None}


def test_stash_filters_scenes_by_their_newest_play_as_text() -> None:
    with StashEmulator() as stash:
        never, old, new = stash.add_scene(), stash.add_scene(), stash.add_scene()
        stash.plays.add_plays(old, [datetime.fromtimestamp(T0, timezone.utc)])
        stash.plays.add_plays(new, [datetime.fromtimestamp(T0, timezone.utc),
                                    datetime.fromtimestamp(T0 + 7200, timezone.utc)])
        find = ("query($f: SceneFilterType) { findScenes(scene_filter: $f, filter: {per_page: -1}) "
                "{ count scenes { id last_played_at } } }")
        after = stash.plays.history(old)[0]  # its one play, in Stash's own text
        found = stash_call(stash, find, {"f": {"last_played_at": {"value": after, "modifier": "GREATER_THAN"}}})
        assert [scene["id"] for scene in found["data"]["findScenes"]["scenes"]] == [new]
        unplayed = stash_call(stash, find, {"f": {"last_played_at": {"value": "", "modifier": "IS_NULL"}}})
        assert [scene["id"] for scene in unplayed["data"]["findScenes"]["scenes"]] == [never]
