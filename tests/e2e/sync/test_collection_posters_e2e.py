"""Collection posters (issue 14) as Stash runs the plugin: a collection PlexSync owns gets its studio's or group's
image once per change of it; the user's own collections are never touched."""

from __future__ import annotations

import hashlib

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

STUDIO_IMAGE = b"\xff\xd8\xff-studio-image-1"


@pytest.fixture()
def studio_library(harness):
    """20 scenes of one studio with an image, each linked to its Plex item; the first item is also in the
    user's own collection, which has a poster the user chose."""
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")
    studio = harness.stash.add_studio("Harbour Films")
    harness.stash.set_image("studio", studio, STUDIO_IMAGE)
    keys, scenes = [], []
    for number in range(20):
        name = f"s{number:02d}.mp4"
        keys.append(harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/{name}", size=100 + number, title=name))
        scenes.append(harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/{name}", "size": 100 + number}],
                                              title=f"Scene {number}", studio_id=studio))
    harness.plex.set_tags(keys[0], "collection", ["My Favourites"])
    mine = harness.plex.library.section(section).collections["My Favourites"]
    harness.plex.library.add_image(harness.plex.library.collection_art(mine), "poster", b"\x89PNG-mine", None)
    return {"section": section, "studio": studio, "keys": keys, "scenes": scenes, "mine": mine}


def sync_all(harness) -> dict:
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    return result.output


def collection(harness, section: int, title: str):
    return PlexServer(harness.plex.url, lib.PLEX_TOKEN).library.sectionByID(section).collection(title)


def poster_uploads(harness) -> list[str]:
    """Poster uploads to collections (items get their scene's cover too)."""
    return [request.path for request in harness.plex.requests
            if request.method == "POST" and request.path.endswith("/posters")
            and int(request.path.split("/")[3]) not in harness.plex.library.items]


def studio_updated(harness, studio: str) -> None:
    result = harness.runner.run_hook("Studio.Update.Post", int(studio), input={"id": studio}, input_fields=["id"])
    assert result.error is None, result.error
    harness.wait_idle()


def test_one_upload_for_twenty_scenes_of_a_studio_and_none_when_nothing_changed(harness, studio_library):
    sync_all(harness)
    owned = collection(harness, studio_library["section"], "Harbour Films")
    assert poster_uploads(harness) == [f"/library/metadata/{owned.ratingKey}/posters"]
    art = harness.plex.library.collection_art(owned.ratingKey)
    assert art.selected_poster.endswith(hashlib.sha1(STUDIO_IMAGE).hexdigest())
    assert "thumb" in {field.name for field in owned.fields if field.locked}  # locked like an item's poster
    assert owned.thumb  # Plex clients show it

    mine = harness.plex.library.collection_art(studio_library["mine"])
    assert mine.selected_poster == "upload://posters/" + hashlib.sha1(b"\x89PNG-mine").hexdigest()
    assert not any(str(studio_library["mine"]) in request.path for request in harness.plex.requests
                   if request.method != "GET")

    harness.plex.reset_requests()
    stash_gets = len(harness.stash.queries)
    assert sync_all(harness)["queued"] == 0
    assert harness.plex.writes() == 0
    assert len(harness.stash.queries) >= stash_gets


def test_a_changed_studio_image_is_one_upload_and_an_unchanged_studio_edit_none(harness, studio_library):
    sync_all(harness)
    owned = collection(harness, studio_library["section"], "Harbour Films")

    harness.stash.set_image("studio", studio_library["studio"], b"\xff\xd8\xff-studio-image-2")
    harness.plex.reset_requests()
    studio_updated(harness, studio_library["studio"])
    assert poster_uploads(harness) == [f"/library/metadata/{owned.ratingKey}/posters"]
    assert harness.plex.writes() == 2  # the upload and its lock; no scene was written
    assert harness.plex.library.collection_art(owned.ratingKey).selected_poster.endswith(
        hashlib.sha1(b"\xff\xd8\xff-studio-image-2").hexdigest())

    harness.stash.set_image("studio", studio_library["studio"], b"\xff\xd8\xff-studio-image-2")  # same bytes
    harness.plex.reset_requests()
    studio_updated(harness, studio_library["studio"])
    assert harness.plex.writes() == 0


def test_skip_collection_posters_uploads_none(harness, studio_library):
    harness.settings(skip_fields="collection posters")
    sync_all(harness)
    assert poster_uploads(harness) == []
    assert collection(harness, studio_library["section"], "Harbour Films").thumb is None


def test_group_collections_get_the_group_image_and_tag_collections_none(harness):
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")
    group, tag = harness.stash.add_group("Summer Series"), harness.stash.add_tag("Outdoor")
    harness.stash.set_image("group", group, b"\x89PNG-group-front")
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/g.mp4", size=5, title="g")
    harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/g.mp4", "size": 5}], title="G",
                            group_ids=[group], tag_ids=[tag])
    harness.settings(with_extras="group collections", tag_collections="Outdoor")
    sync_all(harness)
    assert set(harness.plex.item(key).tags["collection"]) == {"Summer Series", "Outdoor"}
    summer = collection(harness, section, "Summer Series")
    assert poster_uploads(harness) == [f"/library/metadata/{summer.ratingKey}/posters"]
