"""Fidelity of the Plex emulator for actor photos and collection posters, through the real plexapi 4.18.3."""

from __future__ import annotations

import hashlib

import pytest
from plexapi.exceptions import NotFound
from plexapi.server import PlexServer

from emulators.plex.server import PlexEmulator


def _movie(emu: PlexEmulator, plex: PlexServer, section_id: int, name: str):
    return plex.fetchItem(emu.add_item(section_id, f"/data/stash/{name}.mp4", 10, name))


def test_a_role_carries_its_photo_and_a_cast_sent_without_it_loses_it(emu: PlexEmulator, plex: PlexServer,
                                                                      section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "a")
    movie.edit(**{"actor[0].tag.tag": "Ava", "actor[0].tag.thumb": "http://nas:9999/performer/1/image?t=1",
                  "actor[1].tag.tag": "Ben", "actor.locked": 1})
    assert {role.tag: role.thumb for role in movie.reload().roles} == {
        "Ava": "http://nas:9999/performer/1/image?t=1", "Ben": None}
    movie.edit(**{"actor[0].tag.tag": "Ava", "actor[1].tag.tag": "Ben", "actor.locked": 1})
    assert {role.tag: role.thumb for role in movie.reload().roles} == {"Ava": None, "Ben": None}


def test_an_actor_has_one_photo_for_the_whole_server(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    """XBMCnfoTVImporter.bundle#118, AvalonXmlAgent.bundle#1: one entry per actor, so one photo, in every library."""
    other_library = emu.add_section("Other", ["/data/other"])
    theirs = plex.fetchItem(emu.add_item(other_library, "/data/other/x.mp4", 10, "x"))
    theirs.edit(**{"actor[0].tag.tag": "Ava", "actor[0].tag.thumb": "http://tmdb.example/ava.jpg", "actor.locked": 1})
    ours = _movie(emu, plex, section_id, "c")
    ours.edit(**{"actor[0].tag.tag": "ava", "actor[0].tag.thumb": "http://nas:9999/performer/1/image?t=1",
                 "actor.locked": 1})
    assert [(role.tag, role.thumb) for role in theirs.reload().roles] == [
        ("Ava", "http://nas:9999/performer/1/image?t=1")]


def test_a_collection_takes_an_uploaded_poster_and_its_lock(emu: PlexEmulator, plex: PlexServer,
                                                            section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "b")
    movie.addCollection("Harbour Films")
    collection = plex.library.sectionByID(section_id).collection("Harbour Films")
    image = b"\xff\xd8\xff-poster"
    collection.uploadPoster(filepath=image)
    collection.lockPoster()
    collection.reload()
    assert collection.thumb and "thumb" in {field.name for field in collection.fields if field.locked}
    posters = collection.posters()
    assert [(p.ratingKey, p.selected) for p in posters] == [
        ("upload://posters/" + hashlib.sha1(image).hexdigest(), True)]


def test_a_collection_edit_naming_no_collection_is_not_found(emu: PlexEmulator, plex: PlexServer,
                                                             section_id: int) -> None:
    movie = _movie(emu, plex, section_id, "c")
    with pytest.raises(NotFound):
        plex.query(f"/library/sections/{section_id}/all?type=18&id={movie.ratingKey}&thumb.locked=1",
                   method=plex._session.put)
