"""Paths from every kind of system through the path map and the matcher (property-based).

Stash on Linux, Windows (drive letters, UNC shares) or a macOS share (NFD names); Plex likewise; rules written
with or without trailing separators. The real store is the matcher's index (``worker.sync.index_refresh.index_rows``
writes it the way a listing does). tests/plex/test_name_matching.py has the fixed examples; these are the rules:

* a Stash path under a rule's Stash side maps onto the Plex side, case-insensitively only when that Stash side
  is a Windows path; a path the rule does not cover stays as it is;
* the mapped path finds the Plex file exactly when the names are equal after NFC, and, for a Windows Plex,
  after case folding (Plex on Linux is case-sensitive); a path no rule covers, outside every library, is found
  by file name and size;
* no input raises anything but the matcher's own "not in Plex" / "ambiguous" answers.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plex.errors import AmbiguousMatch, ItemNotInPlex
from plex.library_index import IndexedPart
from plex.matcher import Matcher, PathMapper, basename_key, is_under, path_key
from sync_queue.store import Store
from validation.config import parse_path_map
from worker.sync.index_refresh import index_rows

SECTION = 1
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Letters whose case maps one to one under upper/lower and casefold alike (NTFS's upcase table agrees), digits,
# the punctuation file names carry, CJK, emoji, right-to-left and a combining accent.
ALPHABET = list("abcXYZ09 &,%+;'\"()[]#!~._-") + ["é", "É", "ü", "Ñ", "東", "京", "😀", "ש", "ל", "\u0301"]
segment = st.text(alphabet=ALPHABET, min_size=1, max_size=6).filter(lambda s: s.strip(". ") != "")
CASE_CHANGES = {"same": lambda s: s, "upper": str.upper, "lower": str.lower, "swap": str.swapcase}

# (rule's side as written, is a Windows path, separator the system writes)
STASH_SIDES = [("/mnt/Stash", False, "/"), ("/mnt/Stash/", False, "/"), ("E:\\Videos", True, "\\"),
               ("e:/Videos/", True, "/"), ("\\\\Server\\Share\\Stash", True, "\\"), ("\\\\Server\\Share\\", True, "\\")]
PLEX_SIDES = [("/data/Plex", False, "/"), ("/data/Plex/", False, "/"), ("/", False, "/"), ("D:\\Plex", True, "\\"),
              ("D:\\Plex\\", True, "\\"), ("D:\\", True, "\\"), ("\\\\NAS\\Plex", True, "\\")]


@pytest.fixture()
def store(tmp_path: Path):
    with Store(tmp_path / "store") as opened:
        yield opened


def joined(prefix: str, separator: str, names: list[str], doubled: bool) -> str:
    glue = separator * 2 if doubled else separator
    return prefix.rstrip("\\/") + glue + glue.join(names)


def index(store: Store, *files: str) -> None:
    store.conn.execute("DELETE FROM plex_index")
    parts = [IndexedPart(rating_key=100 + n, section_id=SECTION, file=file, size=1, added_stamp=0, updated_stamp=0)
             for n, file in enumerate(files)]
    store.replace_index_items(SECTION, [(part.rating_key, index_rows([part])) for part in parts])


def match(store: Store, rules: list[tuple[str, str]], stash_path: str, locations: list[str]):
    matcher = Matcher(store, PathMapper(rules))
    return matcher.match([{"path": stash_path, "size": 1}], None, {SECTION}, locations)


@PROPS
@given(names=st.lists(segment, min_size=1, max_size=4), stash=st.sampled_from(STASH_SIDES),
       plex=st.sampled_from(PLEX_SIDES), plex_case=st.sampled_from(sorted(CASE_CHANGES)),
       prefix_case=st.sampled_from(sorted(CASE_CHANGES)), doubled=st.booleans(), plex_nfd=st.booleans())
def test_a_mapped_path_is_found_exactly_when_the_rules_say(store, names, stash, plex, plex_case, prefix_case,
                                                           doubled, plex_nfd):
    (stash_side, stash_windows, stash_sep), (plex_side, plex_windows, plex_sep) = stash, plex
    nfc_names = [unicodedata.normalize("NFC", name) for name in names]
    stash_prefix = CASE_CHANGES[prefix_case](stash_side)
    stash_path = joined(stash_prefix, stash_sep, nfc_names, doubled)  # Stash writes NFC
    plex_names = [CASE_CHANGES[plex_case](name) for name in nfc_names]
    if plex_nfd:  # a macOS share: Plex stored the decomposed form
        plex_names = [unicodedata.normalize("NFD", name) for name in plex_names]
    plex_file = joined(plex_side, plex_sep, plex_names, False)
    index(store, plex_file)

    mapped = stash_windows or stash_prefix == stash_side  # on Linux, another case is another folder
    names_equal = [unicodedata.normalize("NFC", n) for n in plex_names] == nfc_names
    if mapped and (names_equal or plex_windows):
        expected = "path"
    elif not mapped and not is_under(stash_path, plex_side):
        expected = "basename_size"  # outside every library: the file name (any case, any form) and size decide
    else:
        expected = None  # inside a library, only the full path counts
    try:
        found = match(store, [(stash_side, plex_side)], stash_path, [plex_side])
    except ItemNotInPlex:
        assert expected is None, (stash_path, plex_file, PathMapper([(stash_side, plex_side)]).to_plex(stash_path))
        return
    assert (found.rating_key, found.method, found.file) == (100, expected, plex_file), (stash_path, plex_file)


@PROPS
@given(names=st.lists(segment, min_size=1, max_size=3), stash=st.sampled_from(STASH_SIDES),
       plex=st.sampled_from(PLEX_SIDES), extra=segment)
def test_a_rule_covers_whole_segments_only_and_trailing_separators_do_not_matter(names, stash, plex, extra):
    (stash_side, _, stash_sep), (plex_side, _, _) = stash, plex
    path = joined(stash_side, stash_sep, names, False)
    bare, slashed = stash_side.rstrip("\\/") or stash_side, stash_side.rstrip("\\/") + stash_sep
    assume(bare not in ("\\\\Server\\Share",))
    assert PathMapper([(bare, plex_side)]).to_plex(path) == PathMapper([(slashed, plex_side)]).to_plex(path)
    sibling = bare + extra + stash_sep + names[-1]  # "/mnt/Stash2/x" is not under "/mnt/Stash"
    assert PathMapper([(bare, plex_side)]).to_plex(sibling) == sibling
    assert is_under(path, stash_side) and not is_under(sibling, stash_side)


any_path = st.text(max_size=40) | st.builds(
    lambda parts, lead: lead + "\\/"[len(parts) % 2].join(parts),
    st.lists(st.text(max_size=6), max_size=5),
    st.sampled_from(["", "/", "\\\\", "\\\\?\\", "\\\\?\\UNC\\", "//?/", "C:", "c:\\", "//", "\\"]))


@PROPS
@given(path=any_path, rules_text=st.text(alphabet="=;,/\\:Cabc \n", max_size=30), other=any_path)
def test_no_path_and_no_path_map_raise_anything_unexpected(store, path, rules_text, other):
    assume("\x00" not in path + other)  # neither Stash nor Plex can hold a NUL in a path
    try:
        rules = parse_path_map(rules_text)
    except ValueError:
        rules = [(other, "/x"), ("/", other)]
    mapper = PathMapper(rules)
    mapped = mapper.to_plex(path)
    assert isinstance(mapped, str) and isinstance(path_key(mapped), str) and isinstance(basename_key(path), str)
    is_under(path, other)
    index(store, other, mapped)
    try:
        match(store, rules, path, [other])
    except (ItemNotInPlex, AmbiguousMatch):
        pass
