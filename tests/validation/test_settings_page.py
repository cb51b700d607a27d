"""The settings as the page has them: text settings that fold many switches, keys of earlier versions, expert
tunables from PLEXSYNC_* and tunables.conf, and errors that name a setting as its reader sees it."""

from __future__ import annotations

import pytest

from plex.errors import token_rejected
from validation import stash_log
from validation.config import ConfigError, load_config
from validation.settings.names import mention, where_to_set
from validation.settings.tunables import read_tunables

BASE = {"plex_url": "http://plex:32400", "plex_token": "t"}


@pytest.fixture()
def command_line(monkeypatch):
    monkeypatch.setattr(stash_log, "_command_line", stash_log._CommandLine(None, 20))


def problem(raw: dict) -> str:
    with pytest.raises(ConfigError) as failed:
        load_config({**BASE, **raw})
    return str(failed.value)


def test_the_field_list_stands_for_the_switches_the_code_reads():
    config, warnings = load_config({**BASE, "skip_fields": "Tagline; performers,collection_posters"})
    assert (config.skip_tagline, config.skip_performers, config.skip_collection_posters) == (True, True, True)
    assert not config.skip_title and config.sync_title and not config.sync_tagline and warnings == []
    assert {"tagline", "actor"}.isdisjoint(config.enabled_fields) and "title" in config.enabled_fields
    extras = load_config({**BASE, "with_extras": "sort titles, File name titles, group collection, scan new files"})[0]
    assert extras.write_sort_title and extras.title_from_filename and extras.group_collections
    assert extras.trigger_plex_scan and "titleSort" in extras.enabled_fields


def test_an_unknown_field_is_an_error_naming_the_label_and_the_words():
    message = problem({"skip_fields": "tagline, postr"})
    assert "Fields PlexSync leaves alone: 'postr' is not one of title, summary" in message
    assert "did you mean 'poster'?" in message and "skip_fields" not in message
    assert "Extras to turn on: 'subtitles'" in problem({"with_extras": "subtitles"})


def test_on_the_command_line_errors_name_the_flag_and_the_variable(command_line):
    assert problem({"skip_fields": "cover"}).startswith(
        "PlexSync settings need attention: --skip-fields (PLEXSYNC_SKIP_FIELDS): 'cover'")
    assert "Plex token is not set: add --plex-token or PLEXSYNC_PLEX_TOKEN" in problem({"plex_token": ""})
    assert str(token_rejected(Exception("(401) unauthorized"))).endswith("check --plex-token or PLEXSYNC_PLEX_TOKEN")


def test_in_stash_errors_name_the_page_label():
    assert "Plex token is not set: add Plex token in PlexSync's settings" in problem({"plex_token": ""})
    assert str(token_rejected(Exception("(401) unauthorized"))).endswith("check Plex token in PlexSync's settings")
    assert "Path map: rule '/data' has no Stash side" in problem({"path_map": "/data"})
    assert problem({"read_timeout": "slow"}).endswith(
        "PLEXSYNC_READ_TIMEOUT (read_timeout in tunables.conf): expected a number, got 'slow'")
    assert (mention("plex_url"), where_to_set("sync_paused")) == ("Plex URL", "Pause syncing in PlexSync's settings")


def test_content_rating_holds_rules_and_one_rating_for_the_rest():
    config = load_config({**BASE, "scene_content_rating": "Softcore=R; Hardcore = XXX; X"})[0]
    assert (config.content_rating, config.content_rating_tags) == ("X", "Softcore=R; Hardcore=XXX")
    assert "contentRating" in config.enabled_fields
    assert "Content rating: 'X' and 'R' are both a rating" in problem({"scene_content_rating": "X; R"})
    assert "Content rating: rule 'Soft=' must be Tag=Rating" in problem({"scene_content_rating": "Soft="})


def test_values_saved_under_earlier_keys_still_apply_and_say_where_they_live_now():
    old = {"pause_sync": True, "loose_matching": "true", "debug_logging": 1, "import_plex_plays": True,
           "plex_play_accounts": "bob", "photo_urls_with_api_key": True, "collection_tags": "Outdoor",
           "skip_poster": True, "skip_rating": "yes", "skip_title": False, "write_sort_title": True,
           "content_rating": "X", "content_rating_tags": "Softcore=R", "max_tags": 7, "settle_seconds": 0}
    config, warnings = load_config({**BASE, **old})
    assert not config.enabled and config.loose_matching and config.debug_logging and config.import_plex_plays
    assert config.plex_play_accounts == "bob" and config.photo_urls_with_api_key and config.collection_tags == "Outdoor"
    assert config.skip_poster and config.skip_rating and not config.skip_title and config.write_sort_title
    assert (config.content_rating, config.content_rating_tags, config.max_tags, config.settle_seconds) == (
        "X", "Softcore=R", 7, 0.0)
    text = "\n".join(warnings)
    assert 'enter "rating, poster" in "Fields PlexSync leaves alone"' in text
    assert 'turn on "Pause syncing"' in text and 'enter "Softcore=R; X" in "Content rating"' in text
    assert "skip_title" not in text and "max_tags" not in text and "Unknown" not in text


def test_a_new_key_saved_on_the_page_wins_over_the_earlier_ones_it_replaces():
    config, warnings = load_config({**BASE, "skip_poster": True, "skip_fields": "", "pause_sync": True,
                                    "sync_paused": False, "content_rating": "X", "scene_content_rating": "R"})
    assert not config.skip_poster and config.enabled and config.content_rating == "R" and warnings == []


def test_an_earlier_rules_value_that_was_never_valid_is_still_an_error():
    assert "content_rating_tags (saved by an earlier PlexSync): rule 'Hardcore'" in problem(
        {"content_rating_tags": "Softcore=R; Hardcore"})


def test_tunables_come_from_the_data_folder_file_and_the_environment(tmp_path):
    (tmp_path / "tunables.conf").write_text("\ufeff# mine\nread_timeout = 60\nsettle_seconds=2\nretries = 3\n"
                                            "plex_url = http://x\nnonsense\n", encoding="utf-8")
    values, warnings = read_tunables(tmp_path, {"PLEXSYNC_SETTLE_SECONDS": "1", "PLEXSYNC_MAX_TAGS": "",
                                                "PLEXSYNC_PLEX_URL": "http://y"})
    assert values == {"read_timeout": "60", "settle_seconds": "1"}  # the variable wins; an empty one is unset
    text = "\n".join(warnings)
    assert "line 4: unknown tunable 'retries' ignored (did you mean max_retries?)" in text
    assert "line 5: plex_url is set on Stash's settings page" in text and "line 6: 'nonsense'" in text
    assert read_tunables(tmp_path / "none", {}) == ({}, [])
    config = load_config({**BASE, "settle_seconds": 9, **values})[0]
    assert (config.read_timeout, config.settle_seconds) == (60.0, 1.0)
