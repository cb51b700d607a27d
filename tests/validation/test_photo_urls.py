"""Performer photo URLs for Plex (validation.metadata_extras.plex_photo_url and build_metadata's photos)."""

from __future__ import annotations

from validation.config import load_config
from validation.metadata import build_metadata
from validation.metadata_extras import plex_photo_url

PLEX_SIDE = "http://nas.local:9999"


def test_scheme_host_and_base_path_are_replaced_and_the_version_kept():
    assert plex_photo_url("http://localhost:9999/stash/performer/12/image?t=1700000000", PLEX_SIDE + "/") == \
        f"{PLEX_SIDE}/performer/12/image?t=1700000000"
    assert plex_photo_url("https://0.0.0.0:9999/performer/12/image?t=1", "http://10.0.0.2/stash") == \
        "http://10.0.0.2/stash/performer/12/image?t=1"


def test_no_photo_for_a_placeholder_an_unknown_url_or_no_setting():
    assert plex_photo_url("http://h/performer/1/image?t=1&default=true", PLEX_SIDE) == ""
    assert plex_photo_url("http://h/somewhere/else.jpg", PLEX_SIDE) == ""
    assert plex_photo_url(None, PLEX_SIDE) == "" and plex_photo_url("http://h/performer/1/image", "") == ""


def test_the_key_is_added_only_when_given_and_replaces_one_stash_put_there():
    assert plex_photo_url("http://h/performer/1/image?t=1&apikey=old", PLEX_SIDE) == f"{PLEX_SIDE}/performer/1/image?t=1"
    assert plex_photo_url("http://h/performer/1/image?t=1", PLEX_SIDE, "k3y") == \
        f"{PLEX_SIDE}/performer/1/image?t=1&apikey=k3y"


def _scene():
    return {"id": "1", "title": "T", "files": [{"path": "/a.mp4"}],
            "performers": [{"name": "Ava", "image_path": "http://h/performer/1/image?t=5"},
                           {"name": "Ava", "disambiguation": "II", "image_path": "http://h/performer/2/image?t=5"},
                           {"name": "Ben", "image_path": "http://h/performer/3/image?t=5&default=true"}]}


def test_photos_join_the_fingerprint_only_when_switched_on():
    off = load_config({"plex_url": "http://plex:32400", "plex_token": "t"})[0]
    on = load_config({"plex_url": "http://plex:32400", "plex_token": "t", "stash_url_for_plex": PLEX_SIDE})[0]
    assert "actorThumb" not in build_metadata(_scene(), off).plex_fields()
    fields = build_metadata(_scene(), on).plex_fields()
    assert fields["actorThumb"] == {"Ava": f"{PLEX_SIDE}/performer/1/image?t=5",
                                    "Ava (II)": f"{PLEX_SIDE}/performer/2/image?t=5"}
    assert build_metadata(_scene(), on, photos=False).fingerprint() == build_metadata(_scene(), off).fingerprint()
    assert build_metadata(_scene(), on).fingerprint() != build_metadata(_scene(), off).fingerprint()


def test_stash_url_for_plex_must_be_an_address():
    problems = []
    for value in ("nas:9999", "http://nas:9999/?x=1"):
        try:
            load_config({"plex_url": "http://plex:32400", "plex_token": "t", "stash_url_for_plex": value})
        except ValueError as exc:
            problems.append(str(exc))
    assert len(problems) == 2 and all("Stash URL as Plex can reach it" in problem for problem in problems)
