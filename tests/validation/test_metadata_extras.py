"""The rules of the optional metadata (issue 14): sort titles, file-name titles, content-rating rules."""

from __future__ import annotations

import pytest

from validation.config import ConfigError, load_config
from validation.metadata import build_metadata
from validation.metadata_extras import filename_title, parse_rating_tags, sort_title

BASE = {"plex_url": "http://plex:32400", "plex_token": "t"}


@pytest.mark.parametrize(("title", "expected"), [
    ("2024-03-02 Harbour Lights", "Harbour Lights 2024-03-02"),
    ("2024.03.02 - The Harbour", "Harbour 2024.03.02"),
    ("24.03.02 Harbour", "Harbour 24.03.02"),
    ("The Harbour", "Harbour"),
    ("an evening", "evening"),
    ("Another Evening", "Another Evening"),
    ("10 20 30 Workout", "10 20 30 Workout"),
    ("2024-03-02", "2024-03-02"),
    ("The", "The"),
    ("A.I. Rising", "A.I. Rising"),
])
def test_sort_title(title, expected):
    assert sort_title(title) == expected


@pytest.mark.parametrize(("path", "expected"), [
    ("/data/Misc/clip_0001.mp4", "clip_0001"),
    ("D:\\Videos\\Paris Rooftop.mkv", "Paris Rooftop"),
    ("/data/no_extension", "no_extension"),
    ("/data/.hidden", ".hidden"),
    (None, ""),
])
def test_filename_title(path, expected):
    assert filename_title(path) == expected


def test_rating_rules_keep_the_users_order_and_name_a_broken_rule():
    assert parse_rating_tags("Softcore=R; Hardcore = XXX;") == [("Softcore", "R"), ("Hardcore", "XXX")]
    with pytest.raises(ConfigError, match="Content rating: rule 'Hardcore=' must be Tag=Rating"):
        load_config({**BASE, "scene_content_rating": "Softcore=R; Hardcore="})


def test_options_off_write_none_of_the_new_fields():
    scene = {"id": "1", "title": "The Harbour", "tags": [{"name": "Outdoor"}], "files": [{"path": "/x/a.mp4"}],
             "groups": [{"group": {"id": "3", "name": "Series"}}]}
    fields = build_metadata(scene, load_config(BASE)[0]).plex_fields()
    assert "titleSort" not in fields and "contentRating" not in fields and fields["collection"] == []
    on = load_config({**BASE, "with_extras": "sort titles, group collections", "scene_content_rating": "XXX",
                      "tag_collections": "outdoor"})[0]
    fields = build_metadata(scene, on).plex_fields()
    assert fields["titleSort"] == "Harbour" and fields["contentRating"] == "XXX"
    assert fields["collection"] == ["Outdoor", "Series"]
    assert "titleSort" not in build_metadata(scene, load_config({**BASE, "with_extras": "sort titles",
                                                                 "skip_fields": "title"})[0]).plex_fields()
