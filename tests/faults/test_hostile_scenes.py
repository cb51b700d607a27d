"""Extreme Stash scenes: through ``build_metadata`` (any shape) and end to end to Plex (fixed extreme scenes).

Text sanitizing itself is tests/validation/test_text_properties.py; here the whole scene: what Plex ends up holding,
read back through plexapi, equals what the user wrote wherever Plex can hold it, or the documented cut
(``validation.limits``), and no shape of scene crashes anything.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plexapi.server import PlexServer

from emulators import demo_library as lib
from validation import limits
from validation.config import load_config
from validation.metadata import SceneDataError, build_metadata
from validation.sanitizers import clean_text, encoded_size

CONFIG, _ = load_config({"plex_url": "http://127.0.0.1:32400", "plex_token": "t", "max_tags": 1000})

# -- any shape of scene: a PlexMetadata or a SceneDataError naming the scene, nothing else ----------------

SCENE_KEYS = ["title", "details", "code", "date", "rating100", "studio", "director", "tags", "performers", "files",
              "paths"]
any_scalar = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
              | st.sampled_from(["2020", "2020-02", "0001-01-01", "9999-12-31", "0000-01-01", "2021-02-30", "2020-13",
                                 "20-1-1", "２０２０", "nan", "inf"]))
object_keys = st.sampled_from(["name", "id", "path", "disambiguation", "parent_studio", "screenshot", "other"])
any_value = st.recursive(any_scalar, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(object_keys, inner, max_size=3), max_leaves=10)
any_scene = st.fixed_dictionaries({"id": st.sampled_from(["7", 7, "x", None, "", "²", "-1", 7.5])},
                                  optional={key: any_value for key in SCENE_KEYS})


@settings(max_examples=400, deadline=None)
@given(scene=any_scene)
def test_any_scene_shape_is_metadata_or_a_scene_data_error(scene):
    """Before: a screenshot path that is not a string raised pydantic's ValidationError, which the engine does
    not catch (it dead-letters SceneDataError only): one odd scene stopped the whole drain."""
    try:
        wanted = build_metadata(scene, CONFIG)
    except SceneDataError as exc:
        assert str(exc).startswith("scene") or "a scene must be an object" in str(exc) or "numeric id" in str(exc)
        return
    json.dumps(wanted.plex_fields(), allow_nan=False)  # what the edit sends, and the push record keeps
    assert len(wanted.fingerprint()) == 64
    rating = wanted.user_rating
    assert rating is None or 0 <= rating <= 10
    if wanted.originally_available_at is not None:
        assert wanted.originally_available_at[:4] == str(wanted.year).zfill(4)


def test_a_screenshot_that_is_not_a_string_fails_the_scene_in_words():
    with pytest.raises(SceneDataError, match=r"scene 7: Stash sent image_url in a form"):
        build_metadata({"id": "7", "paths": {"screenshot": [None]}}, CONFIG)


@pytest.mark.parametrize("raw_id", ["²", "١٢"])
def test_a_scene_id_of_non_ascii_digits_is_a_scene_data_error(raw_id):
    with pytest.raises(SceneDataError, match="numeric id"):
        build_metadata({"id": raw_id}, CONFIG)


# -- fixed extreme scenes, end to end through the real plexapi client --------------------------------------

ZWJ_FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
FLAG_SCOTLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"
TITLE = f"{ZWJ_FAMILY} 東京の夜 שלום עולם e\u0301te\u0301 {FLAG_SCOTLAND} R&B, 100% +1; \"q\" 'q' a/b\\c"
SPECIAL = ["&", ",", "%", "+", ";", '"', "'", "/", "\\", "%20", "&amp;", "=", "?", "#"]
TAGS = [f"tag {n:04d} {SPECIAL[n % len(SPECIAL)]} {'東京' if n % 3 else 'مرحبا'}" for n in range(1000)]
PERFORMERS = [(f"Performer {n} {SPECIAL[n % len(SPECIAL)]}", f"dis{n}" if n % 2 else None) for n in range(200)]
BIG_DETAILS = ("Paragraph one with words. " * 40 + "\n\n") * 1000  # ~1 MB


@pytest.fixture()
def plex_client(world):
    return PlexServer(world.plex.url, lib.PLEX_TOKEN)


def sync(world, *scene_ids) -> None:
    world.queue(*scene_ids)
    out = world.run("process_queue")
    assert out["failed"] == 0, out


def test_an_extreme_scene_reaches_plex_as_written_or_cut_as_documented(world, plex_client):
    """The whole edit is far longer than Plex takes in one request (a 1,000-tag list alone is ~50 KB): Plex's
    400 teaches the limit, the cast goes whole, and the tag list, which no request can carry, is cut to its
    longest start in Stash's order and said so (docs/emulator-fidelity.md)."""
    world.settings(max_tags=1000)
    tag_ids = [world.stash.add_tag(name) for name in TAGS]
    performer_ids = [world.stash.add_performer(name, dis) for name, dis in PERFORMERS]
    studio = world.stash.add_studio("Parent & Co; \"Ltd\"/x", None)
    child = world.stash.add_studio("Child +% Studio, 東京", studio)
    scene_id, key = world.scene("extreme.mp4", title=TITLE, details=BIG_DETAILS, code="CODE/1;2&3",
                                director="O'Brien & Söhne, \"Regie\"", date="0001-01-01", rating100=100,
                                tag_ids=tag_ids, performer_ids=performer_ids, studio_id=child)
    sync(world, scene_id)
    item = plex_client.fetchItem(key)
    assert item.title == TITLE
    assert item.tagline == "CODE/1;2&3"
    assert item.studio == "Child +% Studio, 東京"
    assert [d.tag for d in item.directors] == ["O'Brien & Söhne, \"Regie\""]
    assert item.userRating == 10.0
    assert item.year == 1 and world.plex.item(key).fields["originallyAvailableAt"] == "0001-01-01"
    assert encoded_size(item.summary) <= limits.SUMMARY_BYTES and BIG_DETAILS.startswith(item.summary)
    assert len(item.summary) > limits.SUMMARY_BYTES // 3 * 2  # cut near the limit, not emptied
    actors = [f"{name} ({dis})" if dis else name for name, dis in PERFORMERS]
    genres, roles = world.plex.item(key).tags["genre"], world.plex.item(key).tags["actor"]
    assert roles == actors and 0 < len(genres) < len(TAGS) and genres == TAGS[:len(genres)]
    attention = {entry["scene_id"]: entry for entry in world.run("status")["needs_attention"]}
    assert attention[int(scene_id)]["reason"].startswith(f"Plex got {len(genres)} of 1000 tags")
    assert sorted(c.tag for c in item.collections) == sorted(["Child +% Studio, 東京", "Parent & Co; \"Ltd\"/x"])


def test_more_performers_than_plex_takes_are_cut_at_the_documented_count(world):
    performer_ids = [world.stash.add_performer(f"P{n:03d}") for n in range(limits.MAX_ACTORS + 5)]
    scene_id, key = world.scene("crowd.mp4", title="Crowd", performer_ids=performer_ids)
    sync(world, scene_id)
    assert world.plex.item(key).tags["actor"] == [f"P{n:03d}" for n in range(limits.MAX_ACTORS)]


CONTROL_TITLE = "Bell\x07 tab\tnull\x00 del\x7f end"


def test_control_characters_anywhere_in_a_scene_never_reach_plex(world, plex_client):
    tag = world.stash.add_tag("tag\x1b[31mred\x00")
    performer = world.stash.add_performer("Name\x0bWith\x1fControls")
    scene_id, key = world.scene("controls.mp4", title=CONTROL_TITLE, details="line1\x00\r\nline2\x0c",
                                tag_ids=[tag], performer_ids=[performer], code="c\x85d")
    sync(world, scene_id)
    item = plex_client.fetchItem(key)
    assert item.title == clean_text(CONTROL_TITLE, limits.TITLE) == "Bell tab null del end"
    assert item.tagline == "c d"
    assert world.plex.item(key).tags["genre"] == [clean_text("tag\x1b[31mred\x00", limits.TAG)]
    assert world.plex.item(key).tags["actor"] == ["Name With Controls"]
    assert item.summary == "line1\nline2"


@pytest.mark.parametrize(("stash_date", "plex_date", "plex_year"), [
    ("2020", None, 2020),
    ("2020-02", None, 2020),
    ("2020-02-29", "2020-02-29", 2020),
    ("0001-01-01", "0001-01-01", 1),
    ("9999-12-31", "9999-12-31", 9999),
    ("2021-02-30", None, 2021),  # no such day: the year stands, the date is cleared (with a warning)
    ("2021-13", None, 2021),
    ("0000-01-01", None, None),  # no year 0: both cleared
    ("yesterday", None, None),
])
@pytest.mark.parametrize(("rating100", "plex_rating"), [(0, 0.0), (100, 10.0), (None, None)])
def test_dates_and_ratings_reach_plex_as_plex_can_hold_them(world, plex_client, stash_date, plex_date, plex_year,
                                                            rating100, plex_rating):
    scene_id, key = world.scene("dated.mp4", title="Dated", date=stash_date, rating100=rating100)
    sync(world, scene_id)
    item = plex_client.fetchItem(key)
    assert world.plex.item(key).fields.get("originallyAvailableAt") == plex_date
    assert item.year == plex_year
    assert item.userRating == plex_rating
