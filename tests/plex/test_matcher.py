"""Path mapping, path keys and the matcher's order: link → mapped full path → unique basename + size."""

from __future__ import annotations

from collections import defaultdict

import pytest

from plex.errors import AmbiguousMatch, ItemNotInPlex
from plex.library_index import IndexedPart
from plex.matcher import Matcher, MatchResult, PathMapper, basename_key, is_under, path_key


class DictIndex:
    """An in-memory IndexLookup, keyed exactly as the store keys its plex_index rows."""

    def __init__(self, parts: list[IndexedPart]) -> None:
        self.by_path: dict[str, list[IndexedPart]] = defaultdict(list)
        self.by_name: dict[str, list[IndexedPart]] = defaultdict(list)
        for part in parts:
            self.by_path[path_key(part.file)].append(part)
            self.by_name[basename_key(part.file)].append(part)

    def parts_by_path_key(self, key: str) -> list[IndexedPart]:
        return self.by_path.get(key, [])

    def parts_by_basename_key(self, key: str) -> list[IndexedPart]:
        return self.by_name.get(key, [])


def part(rk: int, file: str, size: int | None = 100, section: int = 1) -> IndexedPart:
    return IndexedPart(rk, section, file, size, 1_700_000_000, 1_700_000_000)


# -- path keys ------------------------------------------------------------------------------------------


def test_posix_keys_keep_case_and_collapse_separators() -> None:
    assert path_key("/data//stash/Scene.MP4") == "/data/stash/Scene.MP4"
    assert path_key("/data/stash/a.mp4") != path_key("/data/stash/A.mp4")  # Linux Plex: different files
    assert path_key("/data/stash/") == "/data/stash"


def test_windows_keys_fold_case_and_unify_separators() -> None:
    assert path_key(r"C:\Media\Scene.MP4") == path_key("c:/media/scene.mp4") == "c:/media/scene.mp4"


def test_long_path_prefix_is_stripped() -> None:
    assert path_key("\\\\?\\C:\\Media\\a.mp4") == path_key(r"C:\Media\a.mp4")
    assert path_key("\\\\?\\UNC\\nas\\share\\a.mp4") == path_key(r"\\nas\share\a.mp4")


def test_unc_keys_stay_apart_from_rooted_posix_paths() -> None:
    assert path_key(r"\\NAS\Share\a.mp4") == "//nas/share/a.mp4"
    assert path_key(r"\\nas\share\a.mp4") != path_key("/nas/share/a.mp4")


def test_unicode_forms_compare_equal() -> None:
    decomposed = "/data/Cafe\u0301.mp4"
    composed = "/data/Caf\u00e9.mp4"
    assert path_key(decomposed) == path_key(composed)
    assert basename_key(decomposed) == basename_key(composed) == "caf\u00e9.mp4"


def test_every_file_name_is_compared_by_one_rule() -> None:
    """Case folded and NFC whoever wrote the name: a Windows Stash, a Linux or Windows Plex, a macOS share."""
    assert basename_key(r"D:\X\Scene.MP4") == basename_key("/x/Scene.MP4") == basename_key("/y/scene.mp4") \
        == "scene.mp4"
    assert basename_key(r"D:\Videos\My Scene.mp4") == basename_key("/data/My Scene.mp4")
    nfc_upper, nfd_lower = "/Volumes/share/\u00c9T\u00c9.mp4", "D:\\E\u0301te\u0301.mp4"
    assert basename_key(nfc_upper) == basename_key(nfd_lower) == "\u00e9t\u00e9.mp4"
    assert basename_key("/x/Stra\u00dfe.mp4") == basename_key("/x/STRASSE.mp4")  # full case folding


# -- path mapping -----------------------------------------------------------------------------------------


def test_no_rule_leaves_the_path_unchanged() -> None:
    assert PathMapper([]).to_plex("/data/a.mp4") == "/data/a.mp4"
    assert PathMapper([("/other", "/x")]).to_plex("/data/a.mp4") == "/data/a.mp4"


def test_posix_to_posix() -> None:
    mapper = PathMapper([("/stash/media", "/plex/media")])
    assert mapper.to_plex("/stash/media/sub/a.mp4") == "/plex/media/sub/a.mp4"


def test_prefix_matches_on_segment_boundaries_only() -> None:
    mapper = PathMapper([("/data/stash", "/plex")])
    assert mapper.to_plex("/data/stash2/a.mp4") == "/data/stash2/a.mp4"
    assert mapper.to_plex("/data/stash/a.mp4") == "/plex/a.mp4"


def test_longest_prefix_wins_whatever_the_rule_order() -> None:
    mapper = PathMapper([("/data", "/mnt/all"), ("/data/special", "/mnt/special")])
    assert mapper.to_plex("/data/special/a.mp4") == "/mnt/special/a.mp4"
    assert mapper.to_plex("/data/other/a.mp4") == "/mnt/all/other/a.mp4"


def test_posix_to_windows_uses_backslashes() -> None:
    assert PathMapper([("/data/stash", "D:\\Media")]).to_plex("/data/stash/sub/a.mp4") == "D:\\Media\\sub\\a.mp4"
    assert PathMapper([("/data/stash", "D:/Media")]).to_plex("/data/stash/a.mp4") == "D:\\Media\\a.mp4"
    assert PathMapper([("/data/stash", "D:\\")]).to_plex("/data/stash/a.mp4") == "D:\\a.mp4"


def test_windows_to_posix_matches_case_insensitively() -> None:
    mapper = PathMapper([("C:\\Users\\Me\\Videos", "/media/videos")])
    assert mapper.to_plex("c:\\users\\me\\videos\\Sub\\A.mp4") == "/media/videos/Sub/A.mp4"


def test_unc_rules() -> None:
    mapper = PathMapper([("/mnt/nas", "\\\\NAS\\share")])
    assert mapper.to_plex("/mnt/nas/a/b.mp4") == "\\\\NAS\\share\\a\\b.mp4"
    back = PathMapper([("\\\\nas\\share", "/data")])
    assert back.to_plex("\\\\NAS\\Share\\x\\y.mp4") == "/data/x/y.mp4"
    long_form = PathMapper([("C:\\Media", "/data")])
    assert long_form.to_plex("\\\\?\\C:\\Media\\y.mp4") == "/data/y.mp4"


def test_posix_prefix_is_case_sensitive() -> None:
    assert PathMapper([("/Data", "/plex")]).to_plex("/data/a.mp4") == "/data/a.mp4"


def test_mapping_to_root() -> None:
    assert PathMapper([("/stash", "/")]).to_plex("/stash/a/b.mp4") == "/a/b.mp4"


# -- matching ---------------------------------------------------------------------------------------------


def test_link_comes_first_and_records_its_method() -> None:
    matcher = Matcher(DictIndex([part(1, "/plex/a.mp4")]), PathMapper([]))
    assert matcher.match([{"path": "/plex/a.mp4", "size": 100}], (99, 3), {1}) == MatchResult(99, 3, "link", None)


def test_mapped_full_path() -> None:
    index = DictIndex([part(1, "/plex/sub/a.mp4"), part(2, "/plex/other/a.mp4")])
    matcher = Matcher(index, PathMapper([("/stash", "/plex")]))
    result = matcher.match([{"path": "/stash/other/a.mp4", "size": 100}], None, {1})
    assert (result.rating_key, result.method, result.file) == (2, "path", "/plex/other/a.mp4")


def test_every_stash_file_is_tried_by_path_before_any_basename() -> None:
    index = DictIndex([part(1, "/plex/x/second.mp4", size=5), part(2, "/elsewhere/first.mp4", size=7)])
    matcher = Matcher(index, PathMapper([("/stash", "/plex")]))
    files = [{"path": "/stash/first.mp4", "size": 7}, {"path": "/stash/x/second.mp4", "size": 5}]
    result = matcher.match(files, None, {1})
    assert (result.rating_key, result.method) == (1, "path")


def test_windows_plex_paths_match_case_insensitively() -> None:
    index = DictIndex([part(5, "\\\\?\\D:\\Media\\Scene.MP4")])
    matcher = Matcher(index, PathMapper([("/data", "D:\\media")]))
    assert matcher.match([{"path": "/data/scene.mp4", "size": 1}], None, {1}).rating_key == 5


def test_linux_plex_paths_are_case_sensitive() -> None:
    index = DictIndex([part(5, "/data/Scene.mp4", size=9)])
    with pytest.raises(ItemNotInPlex):  # inside the library folder only the full path counts
        Matcher(index, PathMapper([])).match([{"path": "/data/scene.mp4", "size": 9}], None, {1}, ["/data"])


def test_unique_basename_with_equal_size() -> None:
    index = DictIndex([part(7, "/plex/x/a.mp4", size=100)])
    result = Matcher(index, PathMapper([])).match([{"path": "/stash/y/a.mp4", "size": 100}], None, {1})
    assert (result.rating_key, result.method) == (7, "basename_size")


def test_basename_with_another_size_never_matches() -> None:
    index = DictIndex([part(7, "/plex/x/a.mp4", size=101)])
    with pytest.raises(ItemNotInPlex):
        Matcher(index, PathMapper([])).match([{"path": "/stash/y/a.mp4", "size": 100}], None, {1})


def test_basename_without_a_stash_size_never_matches() -> None:
    index = DictIndex([part(7, "/plex/x/a.mp4", size=100)])
    with pytest.raises(ItemNotInPlex):
        Matcher(index, PathMapper([])).match([{"path": "/stash/y/a.mp4", "size": None}], None, {1})


def test_duplicate_basenames_in_different_folders_never_cross_match() -> None:
    index = DictIndex([part(1, "/plex/A/scene.mp4", size=100), part(2, "/plex/B/scene.mp4", size=200)])
    matcher = Matcher(index, PathMapper([]))  # no rule: paths differ, only basenames can match
    assert matcher.match([{"path": "/stash/A/scene.mp4", "size": 100}], None, {1}).rating_key == 1
    assert matcher.match([{"path": "/stash/B/scene.mp4", "size": 200}], None, {1}).rating_key == 2
    with pytest.raises(ItemNotInPlex):
        matcher.match([{"path": "/stash/C/scene.mp4", "size": 300}], None, {1})


def test_same_basename_and_size_twice_is_ambiguous_when_strict() -> None:
    index = DictIndex([part(1, "/plex/A/scene.mp4"), part(2, "/plex/B/scene.mp4")])
    with pytest.raises(AmbiguousMatch) as caught:
        Matcher(index, PathMapper([]), strict=True).match([{"path": "/stash/B/scene.mp4", "size": 100}], None, {1})
    assert sorted(key for key, _ in caught.value.candidates) == [1, 2]
    assert "/plex/A/scene.mp4" in str(caught.value)


def test_non_strict_picks_the_longest_common_suffix() -> None:
    index = DictIndex([part(1, "/plex/A/scene.mp4"), part(2, "/plex/B/scene.mp4")])
    result = Matcher(index, PathMapper([]), strict=False).match([{"path": "/stash/B/scene.mp4", "size": 100}],
                                                              None, {1})
    assert (result.rating_key, result.method) == (2, "basename_size")


def test_non_strict_still_refuses_a_tie() -> None:
    index = DictIndex([part(1, "/plex/A/scene.mp4"), part(2, "/plex/B/scene.mp4")])
    with pytest.raises(AmbiguousMatch):
        Matcher(index, PathMapper([]), strict=False).match([{"path": "/stash/C/scene.mp4", "size": 100}], None, {1})


def test_same_path_in_two_items_is_ambiguous() -> None:
    index = DictIndex([part(1, "/plex/a.mp4", section=1), part(2, "/plex/a.mp4", section=2)])
    with pytest.raises(AmbiguousMatch):
        Matcher(index, PathMapper([]), strict=False).match([{"path": "/plex/a.mp4", "size": 100}], None, {1, 2})


def test_several_parts_of_one_item_are_one_candidate() -> None:
    index = DictIndex([part(4, "/plex/a/cd1.mp4"), part(4, "/plex/b/cd1.mp4")])
    result = Matcher(index, PathMapper([])).match([{"path": "/x/cd1.mp4", "size": 100}], None, {1})
    assert result.rating_key == 4


def test_only_the_given_sections_count() -> None:
    index = DictIndex([part(1, "/plex/a.mp4", section=1), part(2, "/plex/a.mp4", section=2)])
    result = Matcher(index, PathMapper([])).match([{"path": "/plex/a.mp4", "size": 100}], None, {2})
    assert (result.rating_key, result.section_id) == (2, 2)
    with pytest.raises(ItemNotInPlex):
        Matcher(index, PathMapper([])).match([{"path": "/plex/a.mp4", "size": 100}], None, {3})


def test_not_found_names_the_mapped_paths_tried() -> None:
    matcher = Matcher(DictIndex([]), PathMapper([("/stash", "/plex")]))
    with pytest.raises(ItemNotInPlex) as caught:
        matcher.match([{"path": "/stash/a.mp4", "size": 1}, {"path": "/stash/b.mp4", "size": 2}], None, {1})
    assert caught.value.paths == ["/plex/a.mp4", "/plex/b.mp4"]


def test_a_same_sized_copy_inside_a_library_folder_waits_for_its_own_item() -> None:
    """Stash has A/scene.mp4 and its copy B/scene.mp4; Plex has listed only A so far."""
    index = DictIndex([part(1, "/plex/A/scene.mp4", size=100)])
    matcher = Matcher(index, PathMapper([("/stash", "/plex")]))
    assert matcher.match([{"path": "/stash/A/scene.mp4", "size": 100}], None, {1}, ["/plex"]).method == "path"
    with pytest.raises(ItemNotInPlex):  # Plex would list B at /plex/B: A is not B
        matcher.match([{"path": "/stash/B/scene.mp4", "size": 100}], None, {1}, ["/plex"])
    # Outside every library folder the mapped path says nothing, so the name-and-size match still helps.
    assert matcher.match([{"path": "/elsewhere/scene.mp4", "size": 100}], None, {1}, ["/plex"]).rating_key == 1
    assert not is_under("/plex2/A/scene.mp4", "/plex") and is_under("/plex/A/scene.mp4", "/plex/")


def test_a_file_name_matches_whatever_its_case_on_either_side() -> None:
    windows_plex = DictIndex([part(1, r"D:\Media\scene.mp4", size=100)])
    linux_plex = DictIndex([part(2, "/posix/My Scene.MP4", size=100)])
    found = Matcher(windows_plex, PathMapper([])).match([{"path": "/stash/Scene.MP4", "size": 100}], None, {1})
    assert (found.rating_key, found.method) == (1, "basename_size")
    found = Matcher(linux_plex, PathMapper([])).match([{"path": r"D:\Videos\my scene.mp4", "size": 100}], None, {1})
    assert (found.rating_key, found.method) == (2, "basename_size")


def test_names_that_differ_only_in_case_are_both_candidates() -> None:
    index = DictIndex([part(1, "/a/Scene.mp4", size=100), part(2, "/b/SCENE.mp4", size=100)])
    with pytest.raises(AmbiguousMatch):
        Matcher(index, PathMapper([])).match([{"path": "/stash/scene.mp4", "size": 100}], None, {1})
