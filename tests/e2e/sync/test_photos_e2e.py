"""Performer photos (issue 14) through the plugin as Stash runs it: the real stashapi client reads the emulated
Stash, the real plexapi client writes the emulated Plex and reads back what a Plex client would see."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

PLEX_SIDE_STASH = "http://nas.local:9999"
API_KEY = "stash-api-key-0123456789abcdef"


@pytest.fixture()
def cast(harness):
    """One scene with two performers (only Ava has an image in Stash), linked to one Plex item."""
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")
    ava, ben = harness.stash.add_performer("Ava"), harness.stash.add_performer("Ben")
    harness.stash.set_image("performer", ava, b"\xff\xd8\xff-ava-1")
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/a.mp4", size=10, title="a")
    scene = harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/a.mp4", "size": 10}], title="Scene A",
                                    performer_ids=[ava, ben])
    return {"ava": ava, "ben": ben, "key": key, "scene": scene}


def sync_all(harness) -> dict:
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    return result.output


def roles(harness, key: int) -> dict[str, str | None]:
    """Actor → photo URL, as plexapi reads the item's detail view."""
    item = PlexServer(harness.plex.url, lib.PLEX_TOKEN).fetchItem(key)
    return {role.tag: role.thumb for role in item.roles}


def resync(harness, scene_id: str) -> None:
    harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id}, input_fields=["id"])
    harness.wait_idle()


def test_photos_are_off_until_a_stash_url_for_plex_is_set(harness, cast):
    sync_all(harness)
    assert roles(harness, cast["key"]) == {"Ava": None, "Ben": None}

    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH + "/")
    sync_all(harness)
    shown = roles(harness, cast["key"])
    assert shown["Ava"].startswith(f"{PLEX_SIDE_STASH}/performer/{cast['ava']}/image?t=")
    assert shown["Ben"] is None  # Stash's placeholder (default=true) is not a photo
    assert "localhost" not in shown["Ava"] and "127.0.0.1" not in shown["Ava"]


def test_unchanged_photos_cost_nothing_and_a_changed_photo_is_one_put(harness, cast):
    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH)
    sync_all(harness)
    first = roles(harness, cast["key"])["Ava"]

    harness.plex.reset_requests()
    assert sync_all(harness)["queued"] == 0
    assert harness.plex.writes() == 0

    harness.stash.set_image("performer", cast["ben"], b"\xff\xd8\xff-ben-1")  # no scene is touched in Stash
    harness.stash.set_image("performer", cast["ava"], b"\xff\xd8\xff-ava-2")
    harness.plex.reset_requests()
    sync_all(harness)
    assert harness.plex.count("PUT") == 1 and harness.plex.writes() == 1
    shown = roles(harness, cast["key"])
    assert shown["Ava"] != first and shown["Ava"].startswith(f"{PLEX_SIDE_STASH}/performer/{cast['ava']}/")
    assert shown["Ben"].startswith(f"{PLEX_SIDE_STASH}/performer/{cast['ben']}/")


def test_a_cast_change_keeps_the_photos_and_turning_photos_off_removes_none(harness, cast):
    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH)
    sync_all(harness)
    ava_photo = roles(harness, cast["key"])["Ava"]

    harness.settings()  # photos off again
    carl = harness.stash.add_performer("Carl")
    harness.stash.update_scene(cast["scene"], performer_ids=[cast["ava"], cast["ben"], carl])
    resync(harness, cast["scene"])
    assert roles(harness, cast["key"]) == {"Ava": ava_photo, "Ben": None, "Carl": None}


def test_a_photo_chosen_in_plex_survives_a_cast_change(harness, cast):
    harness.plex.library.set_actor_photo("Ben", "https://images.example/ben.jpg")
    harness.plex.library.set_tags(cast["key"], "actor", ["Ben"])
    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH)
    sync_all(harness)  # the first push reads Plex: Ben's photo is known and sent back with the cast
    carl = harness.stash.add_performer("Carl")
    harness.stash.update_scene(cast["scene"], performer_ids=[cast["ben"], carl])
    resync(harness, cast["scene"])
    shown = roles(harness, cast["key"])
    assert shown["Ben"] == "https://images.example/ben.jpg" and shown["Carl"] is None


def test_a_stash_with_a_password_gets_no_photo_url_with_its_key_unless_allowed(harness, cast):
    harness.stash.api_key, harness.stash.require_auth = API_KEY, True
    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH, verbose_logging=True)
    held_back = harness.task("Sync All Scenes")
    assert roles(harness, cast["key"]) == {"Ava": None, "Ben": None}
    warned = [text for level, text in held_back.logs if level == "warning" and "Performer photos" in text]
    assert len(warned) == 1 and "Put Stash's API key into photo URLs stored in Plex" in warned[0]
    assert harness.status()["performer_photos"].startswith("Performer photos are not written")
    every_url = " ".join(f"{request.path}?{request.query}" for request in harness.plex.requests)
    assert API_KEY not in every_url
    harness.stash.set_image("performer", cast["ava"], b"\xff\xd8\xff-ava-2")
    again = harness.task("Sync All Scenes")
    assert not [text for _, text in again.logs if "Performer photos" in text]  # said once

    harness.settings(stash_url_for_plex=PLEX_SIDE_STASH, stash_url_with_api_key=True, verbose_logging=True)
    preview = harness.task("Preview Sync (no changes)")
    assert "actorThumb" in preview.stdout_raw.decode() and "apikey=" in preview.stdout_raw.decode()
    allowed = harness.task("Sync All Scenes")
    shown = roles(harness, cast["key"])
    assert shown["Ava"].endswith(f"&apikey={API_KEY}") and shown["Ben"] is None
    assert harness.status()["performer_photos"] is None
    for run in (held_back, again, preview, allowed):
        assert API_KEY.encode() not in run.stderr_raw + run.stdout_raw
    logs = [path.read_bytes() for path in (harness.data_dir / "logs").rglob("*") if path.is_file()]
    assert not any(API_KEY.encode() in text for text in logs)
