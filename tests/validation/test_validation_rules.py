"""Settings coercion and errors, text sanitizing, and the Stash scene → Plex state mapping."""

from __future__ import annotations

import pytest

from validation.config import ConfigError, config_from_env, load_config, parse_path_map, plugin_id_from_yml
from validation.metadata import SceneDataError, build_metadata
from validation import limits
from validation.sanitizers import clean_summary, clean_text, cut, encoded_size, unique_names

BASE = {"plex_url": "http://plex:32400/", "plex_token": "secret-token-value"}


def config(**raw):
    return load_config({**BASE, **raw})[0]


@pytest.mark.parametrize(("raw", "expected"), [
    ({"max_tags": "50"}, 50), ({"max_tags": 50.0}, 50), ({"max_tags": " 7 "}, 7), ({"max_tags": ""}, 100),
    ({"max_tags": None}, 100),
])
def test_numbers_from_every_stash_shape(raw, expected):
    assert config(**raw).max_tags == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("YES", True), ("1", True), (1, True),
                                                  ("off", False), ("0", False), (False, False),
                                                  ("", False), ("  ", False)])  # emptied: the default (off)
def test_booleans_from_every_stash_shape(value, expected):
    cfg = config(skip_tls_verify=value)
    assert cfg.skip_tls_verify is expected and cfg.verify_tls is not expected


@pytest.mark.parametrize(("raw", "needle"), [
    ({"max_tags": 5.5}, r"PLEXSYNC_MAX_TAGS \(max_tags in tunables.conf\): expected a whole number"),
    ({"max_tags": 0}, r"PLEXSYNC_MAX_TAGS \(max_tags in tunables.conf\): must be between"),
    ({"read_timeout": "slow"}, r"PLEXSYNC_READ_TIMEOUT \(read_timeout in tunables.conf\): expected a number"),
    ({"skip_tls_verify": "maybe"}, "Don't verify Plex's TLS certificate"),
    ({"log_format": "xml"}, r"PLEXSYNC_LOG_FORMAT \(log_format in tunables.conf\): Input should be"),
    ({"plex_url": "plex:32400"}, "Plex URL: must start with"), ({"path_map": "/only-one-side"}, "Path map: rule"),
])
def test_bad_values_are_named(raw, needle):
    with pytest.raises(ConfigError, match=needle) as failure:
        config(**raw)
    assert "secret-token-value" not in str(failure.value)


def test_missing_url_and_token_are_clear_errors_not_tracebacks():
    with pytest.raises(ConfigError) as failure:
        load_config({})
    assert "Plex URL is not set" in str(failure.value) and "Plex token is not set" in str(failure.value)


def test_defaults_unknown_keys_and_the_token_stays_secret():
    cfg, warnings = load_config({**BASE, "plexLibrary": "x"})
    assert cfg.plex_url == "http://plex:32400" and cfg.max_retries == 5 and cfg.settle_seconds == 5
    assert warnings == ["Unknown PlexSync setting 'plexLibrary' ignored (did you mean 'plex_library'?)"]
    assert "secret-token-value" not in repr(cfg) and cfg.plex_token.get_secret_value() == "secret-token-value"


def test_derived_values():
    cfg = config(plex_library=" Movies , ,Scenes", path_map="/a=/b; /a/c=/d\nD:\\V=/v", skip_fields="date")
    assert cfg.library_names == ["Movies", "Scenes"]
    assert cfg.path_rules == [("/a/c", "/d"), ("D:\\V", "/v"), ("/a", "/b")]
    assert "year" not in cfg.enabled_fields and "title" in cfg.enabled_fields
    assert cfg.timeouts == (5.0, 30.0)
    assert parse_path_map("") == []


def test_environment_and_plugin_id(tmp_path):
    assert config_from_env({"PLEXSYNC_PLEX_URL": "u", "PLEXSYNC_NOPE": "x", "HOME": "/"}) == {"plex_url": "u"}
    (tmp_path / "Renamed.yml").write_text("name: x\n")
    assert plugin_id_from_yml(tmp_path) == "Renamed"
    assert plugin_id_from_yml(tmp_path / "empty") == "PlexSync"


def test_sanitizers():
    assert clean_text("Cafe\u0301\u200b  \t x\u202e\x00\x9b") == "Cafe\u0301\u200b x\u202e"  # only controls go
    assert clean_summary("one\r\n\r\n\r\n\r\ntwo  words\n\u200bthree") == "one\n\n\n\ntwo  words\n\u200bthree"
    assert cut("word " * 100, 30) == "word word word word word word"
    assert len(cut("東" * 300, 255)) == 255
    assert unique_names(["A", "a", " B ", "", "C"], 2) == ["A", "B"]


def test_long_values_are_cut_by_their_encoded_size_at_a_boundary():
    summary = clean_summary(("東" * 60 + "\n\n") * 100)
    assert encoded_size(summary) <= limits.SUMMARY_BYTES and summary.endswith("\n\n" + "東" * 60)  # whole paragraphs
    words = clean_summary("word " * 10_000)
    assert limits.SUMMARY_BYTES - 10 < encoded_size(words) <= limits.SUMMARY_BYTES and words.endswith(" word")
    title = clean_text("東京 " * 100)
    assert encoded_size(title) <= limits.LINE_BYTES and title.endswith("東京")
    assert clean_text("e" * 300 + "\u0301") == "e" * 255 and clean_text("&" * 300) == "&" * 255  # ASCII: chars bind
    assert cut("ab\u0301", 2, max_bytes=3) == "a"  # never a base without its mark
    assert clean_text("bad \ud800surrogate") == "bad surrogate"  # not encodable: the PUT could never be sent


def test_max_tags_keeps_the_first_n_tags_whatever_their_names():
    tags = [{"name": f"Some Longer Category {i}"} for i in range(150)]
    genres = build_metadata(scene(tags=tags), config()).plex_fields()["genre"]
    assert genres == [f"Some Longer Category {i}" for i in range(100)]  # the default max_tags, in Stash's order
    long_names = unique_names([f"{i}" + "标" * 200 for i in range(50)], 1000)
    assert len(long_names) == 50 and all(encoded_size(n) <= limits.LINE_BYTES for n in long_names)


@pytest.mark.parametrize("separator", ["\t", "\v", "\f", "\x1f", "\x85", "\u2028", "\u2029"])
def test_separators_in_one_line_text_become_spaces(separator):
    assert clean_text(f"col1{separator}col2") == "col1 col2"
    assert unique_names([f"Big{separator}Tag"]) == ["Big Tag"]


def test_separators_in_summaries_keep_words_and_lines_apart():
    assert clean_summary("col1\tcol2\vcol3\fcol4\x1fcol5") == "col1\tcol2\ncol3\ncol4 col5"  # tabs are kept
    assert clean_summary("line one\x85line two\rline three") == "line one\nline two\nline three"
    assert clean_summary("para one\u2029para two\u2028three") == "para one\u2029para two\u2028three"  # not controls


def scene(**fields):
    return {"id": "7", "files": [{"path": "/x.mp4", "size": 1}], "paths": {"screenshot": "http://s/7?t=1"}, **fields}


@pytest.mark.parametrize(("date", "released", "year"), [
    ("2024-03-02", "2024-03-02", 2024), ("2023-07", None, 2023), ("2022", None, 2022), (None, None, None),
    ("03/02/2024", None, None), ("2024-02-29", "2024-02-29", 2024), ("0000-01-01", None, None)])
def test_dates_of_three_precisions(date, released, year):
    fields = build_metadata(scene(date=date), config()).plex_fields()
    assert fields["originallyAvailableAt"] == released and fields["year"] == year


@pytest.mark.parametrize("date", ["2021-02-30", "2023-02-29", "2021-04-31", "2021-13-01", "2021-00-10", "2022-13"])
def test_an_impossible_day_or_month_keeps_only_its_year(date):
    meta = build_metadata(scene(date=date), config())
    fields = meta.plex_fields()
    assert fields["originallyAvailableAt"] is None and fields["year"] == int(date[:4])
    assert len(meta.warnings) == 1 and date in meta.warnings[0] and "year kept" in meta.warnings[0]


def test_mapping_rules():
    meta = build_metadata(scene(
        title="  T  ", details="a\n\nb", code="C-1", rating100=85, director="D",
        studio={"name": "Kid", "parent_studio": {"name": "Mom"}},
        performers=[{"name": "Mia", "disambiguation": "Berlin"}, {"name": "Mia", "disambiguation": None}],
        tags=[{"name": "x"}, {"name": "X"}, {"name": "y"}, {"name": "z"}]), config(max_tags=2))
    fields = meta.plex_fields()
    assert fields["title"] == "T" and fields["summary"] == "a\n\nb" and fields["tagline"] == "C-1"
    assert fields["userRating"] == 8.5 and fields["director"] == ["D"] and fields["studio"] == "Kid"
    assert fields["actor"] == ["Mia (Berlin)", "Mia"] and fields["genre"] == ["x", "y"]
    assert fields["collection"] == ["Kid", "Mom"] and meta.images == {"poster": "http://s/7?t=1",
                                                                      "art": "http://s/7?t=1"}


def test_empty_title_never_clears_and_toggles_remove_fields():
    fields = build_metadata(scene(title=""), config(skip_fields="tags, poster")).plex_fields()
    assert "title" not in fields and "genre" not in fields and fields["summary"] == ""


def test_fingerprint_is_stable_and_sensitive():
    one = build_metadata(scene(title="A"), config())
    assert one.fingerprint() == build_metadata(scene(title="A"), config()).fingerprint()
    assert one.fingerprint() != build_metadata(scene(title="B"), config()).fingerprint()
    assert one.fingerprint() != build_metadata(scene(title="A"), config(skip_fields="summary")).fingerprint()


@pytest.mark.parametrize("bad", [{"id": "x"}, {"id": "1", "rating100": "high"}, {"id": "1", "tags": "oops"}, []])
def test_bad_stash_data_names_the_scene(bad):
    with pytest.raises(SceneDataError):
        build_metadata(bad, config())


def test_a_comma_list_of_whole_path_rules_is_read_as_separate_rules():
    assert parse_path_map("/data=/media, /more=/mnt/more") == [("/data", "/media"), ("/more", "/mnt/more")]
    assert parse_path_map("D:\\V=/v,\\\\nas\\x=/x; /y=/z") == [("\\\\nas\\x", "/x"), ("D:\\V", "/v"), ("/y", "/z")]
    assert parse_path_map("/data/Smith, John=/m/Smith, John") == [("/data/Smith, John", "/m/Smith, John")]


@pytest.mark.parametrize("path_map", ["/data/Smith, John=/m/Smith, John, /o=/p", "/a=/b=/c", "/a=/b, c=/d"])
def test_a_rule_that_reads_two_ways_is_an_error_naming_the_fix(path_map):
    with pytest.raises(ConfigError) as failure:
        config(path_map=path_map)
    assert repr(path_map) in str(failure.value) and "separated by ';'" in str(failure.value)
