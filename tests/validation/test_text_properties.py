"""Text reaches Plex unchanged: property-based checks of the sanitizers and the metadata builder.

For any printable text, what Plex receives equals the input (or its cut at a grapheme cluster boundary when over a
limit); for any text at all, the result is something Plex can store and answer with in XML 1.0, and nothing raises.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import regex
from hypothesis import HealthCheck, given, settings, strategies as st

from validation import limits
from validation.config import load_config
from validation.metadata import build_metadata
from validation.sanitizers import clean_summary, clean_text, encoded_size, unique_names

PROPERTY = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# Sequences random code points almost never form: joined emoji, flags, tag sequences, skin tones, Indic vowel
# signs, Hangul jamo, bidi marks and isolates, joiners, special spaces, visible format characters.
PIECES = ["👨\u200d👩\u200d👧", "🇩🇪", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "❤\ufe0f",
          "👍🏽", "क\u093f", "\u1112\u1161\u11ab", "\u200c", "\u200d", "\u200e", "\u200f", "\u2066", "\u2069",
          "\u0600", "\u06dd", "\u3000", "\u202f", "\u00a0", "\uf900", "e\u0301", " ", "&", "%", "=", ",", "東"]
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
BASE = {"plex_url": "http://plex:32400", "plex_token": "token-value"}


def _printable_chars(exclude: str = "") -> st.SearchStrategy[str]:
    return st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff" + exclude)


def _texts(chars: st.SearchStrategy[str], max_size: int = 60) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(chars, st.sampled_from(PIECES)), max_size=max_size).map("".join)


def _one_line(text: str) -> str:
    """A one-line value as a person types it: single ASCII spaces between words, none at the ends."""
    return re.sub(" +", " ", text).strip(" ")


PRINTABLE_LINE = _texts(_printable_chars("\u2028\u2029")).map(_one_line)
PRINTABLE_MULTI_LINE = _texts(st.one_of(_printable_chars(), st.sampled_from("\n\t"))).map(
    lambda text: re.sub(r"\A(?:[ \t]*\n)+", "", text).rstrip(" \t\n"))
ANY_TEXT = _texts(st.one_of(st.characters(), st.sampled_from("\x00\x01\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff"
                                                             "\r\n\t\v\f\u2028\u2029")), max_size=120)


def boundaries(text: str) -> set[int]:
    return {0} | {match.end() for match in regex.finditer(r"\X", text, regex.DOTALL)}


def assert_kept_or_cut(result: str, text: str, limit: int, max_bytes: int) -> None:
    if len(text) <= limit and encoded_size(text) <= max_bytes:
        assert result == text
    else:
        assert text.startswith(result) and len(result) in boundaries(text)
        assert len(result) <= limit and encoded_size(result) <= max_bytes


def assert_plex_can_hold(value: str, *, multi_line: bool) -> None:
    """Encodable, XML 1.0 legal, no controls beyond the field's own, and carried back by an XML attribute as is
    (Plex answers with the value in an attribute of its XML)."""
    value.encode("utf-8")
    assert not XML_ILLEGAL.search(value)
    allowed = "\t\n" if multi_line else ""
    assert not [ch for ch in value if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in allowed]
    raw = ElementTree.tostring(ElementTree.Element("Video", summary=value), encoding="utf-8")
    assert ElementTree.fromstring(raw).get("summary") == value


@PROPERTY
@given(PRINTABLE_LINE)
def test_printable_one_line_text_arrives_unchanged(text):
    expected = "" if text.isspace() else text
    assert_kept_or_cut(clean_text(text), expected, limits.TITLE, limits.LINE_BYTES)


@PROPERTY
@given(PRINTABLE_LINE, st.integers(1, 40), st.integers(1, 120))
def test_one_line_text_over_a_limit_is_cut_at_a_grapheme_boundary(text, limit, max_bytes):
    expected = "" if text.isspace() else text
    assert_kept_or_cut(clean_text(text, limit, max_bytes), expected, limit, max_bytes)


@PROPERTY
@given(PRINTABLE_MULTI_LINE, st.integers(1, 200))
def test_printable_summaries_arrive_unchanged_or_cut_at_a_grapheme_boundary(text, max_bytes):
    expected = "" if text.isspace() else text
    assert clean_summary(text) == expected
    assert_kept_or_cut(clean_summary(text, max_bytes), expected, len(text), max_bytes)


@PROPERTY
@given(ANY_TEXT, st.integers(1, 300), st.integers(1, 800))
def test_any_text_becomes_a_value_plex_can_hold(text, limit, max_bytes):
    line = clean_text(text, limit, max_bytes)
    assert_plex_can_hold(line, multi_line=False)
    assert len(line) <= limit and encoded_size(line) <= max_bytes and "  " not in line and line == line.strip(" ")
    summary = clean_summary(text, max_bytes)
    assert_plex_can_hold(summary, multi_line=True)
    assert encoded_size(summary) <= max_bytes
    for name in unique_names([text, text.upper()]):
        assert_plex_can_hold(name, multi_line=False)


def _scene(title, details, code, director, studio, tags, performers):
    return {"id": "7", "title": title, "details": details, "code": code, "director": director,
            "studio": {"name": studio, "parent_studio": None}, "tags": [{"name": tag} for tag in tags],
            "performers": [{"name": name, "disambiguation": None} for name in performers],
            "files": [{"path": "/x.mp4", "size": 1}], "paths": {"screenshot": None}}


def _distinct(names: list[str]) -> list[str]:
    """Names that stay separate tags: not blank, no two equal ignoring case."""
    seen: dict[str, str] = {}
    for name in names:
        if not name.isspace() and name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


@PROPERTY
@given(PRINTABLE_LINE, PRINTABLE_MULTI_LINE, PRINTABLE_LINE, PRINTABLE_LINE, PRINTABLE_LINE,
       st.lists(PRINTABLE_LINE, max_size=5).map(_distinct), st.lists(PRINTABLE_LINE, max_size=5).map(_distinct))
def test_the_metadata_builder_passes_printable_text_through(title, details, code, director, studio, tags,
                                                            performers):
    config = load_config(BASE)[0]
    fields = build_metadata(_scene(title, details, code, director, studio, tags, performers), config).plex_fields()
    blank = "" if studio.isspace() else studio
    assert fields.get("title", "") == ("" if title.isspace() else title)
    assert fields["summary"] == ("" if details.isspace() else details)
    assert fields["tagline"] == ("" if code.isspace() else code)
    assert fields["director"] == ([director] if director and not director.isspace() else [])
    assert fields["studio"] == blank and fields["collection"] == ([blank] if blank else [])
    assert fields["genre"] == tags and fields["actor"] == performers


@PROPERTY
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT, st.lists(ANY_TEXT, max_size=4), st.lists(ANY_TEXT, max_size=4))
def test_the_metadata_builder_takes_any_text(title, details, code, studio, tags, performers):
    config = load_config(BASE)[0]
    fields = build_metadata(_scene(title, details, code, title, studio, tags, performers), config).plex_fields()
    for name in ("title", "tagline", "studio"):
        assert_plex_can_hold(fields.get(name) or "", multi_line=False)
        assert encoded_size(fields.get(name) or "") <= limits.LINE_BYTES
    assert_plex_can_hold(fields["summary"], multi_line=True)
    assert encoded_size(fields["summary"]) <= limits.SUMMARY_BYTES
    for name in fields["genre"] + fields["actor"] + fields["director"] + fields["collection"]:
        assert_plex_can_hold(name, multi_line=False)
        assert encoded_size(name) <= limits.LINE_BYTES and len(name) <= limits.TAG


REPRODUCED = {
    "joined emoji": "Family 👨\u200d👩\u200d👧 day", "Persian ZWNJ": "می\u200cخواهم", "Hebrew RLM": "שלום\u200f 2024",
    "isolates": "\u2067مرحبا\u2069 world",
    "subdivision flag": "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "visible Cf": "\u0600\u0661 \u06dd", "ideographic space": "東京\u3000物語", "French NNBSP": "«\u202fOui\u202f»",
    "CJK compatibility ideograph": "\uf900", "decomposed accent": "Cafe\u0301",
}


def test_reproduced_titles_reach_plex_unchanged():
    for name, text in REPRODUCED.items():
        assert clean_text(text) == text, name
        assert unique_names([text]) == [text], name


def test_summaries_keep_their_tabs_special_spaces_and_blank_lines():
    text = "Intro\n\tindented line\n\t\tdeeper\n\n\n東京\u3000物語 «\u202fOui\u202f»"
    assert clean_summary(text) == text
    assert clean_summary("\n \n\tFirst\r\nSecond \n\n") == "\tFirst\nSecond"


def test_cut_never_splits_a_grapheme_cluster():
    # (text, characters allowed, what is kept): each cluster is longer than one code point
    cases = [("❤\ufe0f❤\ufe0f", 3, "❤\ufe0f"), ("👍🏽👍🏽", 3, "👍🏽"), ("🇩🇪🇫🇷", 3, "🇩🇪"), ("क\u093fक\u093f", 3, "क\u093f"),
             ("\u1112\u1161\u11ab\u1112\u1161\u11ab", 5, "\u1112\u1161\u11ab"), ("👨\u200d👩\u200d👧x", 4, ""),
             ("a🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 5, "a")]
    for text, limit, kept in cases:
        assert clean_text(text, limit) == kept, text
    assert clean_text("❤\ufe0f" * 200, 255, max_bytes=45) == "❤\ufe0f" * 2  # 9 + 9 encoded bytes per heart
    assert clean_text("ab\u0301", 2, max_bytes=3) == "a"


def test_what_cannot_travel_is_dropped_and_nothing_else():
    assert clean_text("a\x00b\x07c\x9bd\ud800e\ufffef\uffffg") == "abcdefg"
    assert clean_text("tab\there  two\n\nlines\u2028x") == "tab here two lines x"
    assert clean_summary("a\x00b\x1bc\ufffe\td") == "abc\td"
    assert clean_text("\u3000 \u00a0") == "" and clean_summary(" \n\u3000\n") == ""  # nothing to show


@PROPERTY
@given(st.text(st.characters(blacklist_categories=("Cs",))) | st.lists(st.sampled_from(PIECES)).map("".join))
def test_encoded_size_is_what_plexapi_sends(text):
    """The size is counted without quoting (a Sync All measures every value of every scene): it must stay the
    length plexapi's joinArgs produces with ``quote(value, safe='')``."""
    from urllib.parse import quote

    assert encoded_size(text) == len(quote(text, safe=""))
