"""How one edit becomes PUTs (a pure function of the edit, a request-line measure and the learned limit): each
tag type's whole list in one PUT, since Plex replaces the item's list with each list it receives."""

from __future__ import annotations

import pytest
from plexapi import utils

from plex.edit_requests import plan_edit


def measure(params: dict) -> int:
    """The query string's length as plexapi encodes it (a stand-in for the whole request line)."""
    return len(utils.joinArgs(params))


def never_measured(params: dict) -> int:
    raise AssertionError("no limit is known: nothing needs measuring")


def entries(params: dict, tag_type: str) -> list[str]:
    """The names of one tag type's indexed entries in a PUT, in index order (indices must run 0, 1, 2…)."""
    found = {int(key[len(tag_type) + 1:key.index("]")]): value for key, value in params.items()
             if key.startswith(f"{tag_type}[") and key.endswith("].tag.tag")}
    assert sorted(found) == list(range(len(found)))
    return [found[index] for index in sorted(found)]


CAST = [f"Performer {index:03d} Ångström 東京" for index in range(200)]


def test_an_unchanged_scene_is_no_put() -> None:
    assert plan_edit({}, {}, [], never_measured).puts == []
    assert plan_edit({}, {}, [], measure, limit=800).puts == []


def test_without_a_known_limit_the_whole_edit_is_one_put_however_long() -> None:
    plan = plan_edit({"title": "T", "summary": "S" * 7000, "genre": ["a", "b"], "actor": CAST},
                     {"genre": ["c"], "actor": ["Gone"]}, ["thumb"], never_measured)
    assert len(plan.puts) == 1 and plan.left_out == {}
    (put,) = plan.puts
    assert entries(put, "actor") == CAST and entries(put, "genre") == ["a", "b"] and put["thumb.locked"] == 1
    assert not any(key.endswith("[].tag.tag-") for key in put)  # the list replaces: no removals needed


def test_within_a_limit_scalars_come_first_and_each_list_travels_whole_in_one_put() -> None:
    changes = {"title": "T" * 300, "summary": "S" * 300, "genre": ["g" * 150, "h" * 150],
               "actor": ["a" * 150, "b" * 150]}
    plan = plan_edit(changes, {"genre": ["old genre"]}, [], measure, limit=700)
    assert all(measure(params) <= 700 for params in plan.puts) and len(plan.puts) >= 3
    assert "title.value" in plan.puts[0] and not any("tag" in key for key in plan.puts[0])
    for tag_type in ("genre", "actor"):
        carrying = [params for params in plan.puts if entries(params, tag_type)]
        assert len(carrying) == 1 and entries(carrying[0], tag_type) == changes[tag_type]
    assert plan.left_out == {} and plan.kept == {}


def test_a_list_no_request_can_hold_is_cut_to_the_longest_start_that_fits() -> None:
    thumbs = {name: f"http://nas.local:9999/performer/{index}/image?t=1733412345" for index, name in enumerate(CAST)}
    plan = plan_edit({"title": "t", "actor": CAST, "actorThumb": thumbs}, {}, [], measure, limit=8000)
    kept = plan.kept["actor"]
    assert 0 < len(kept) < len(CAST) and kept == CAST[:len(kept)] and plan.left_out["actor"] == CAST[len(kept):]
    carrying = [params for params in plan.puts if entries(params, "actor")]
    assert len(carrying) == 1 and entries(carrying[0], "actor") == kept  # never a second part
    assert all(carrying[0][f"actor[{index}].tag.thumb"] == thumbs[name] for index, name in enumerate(kept))
    assert measure(carrying[0]) <= 8000 < measure({**carrying[0], f"actor[{len(kept)}].tag.tag": CAST[len(kept)],
                                                    f"actor[{len(kept)}].tag.thumb": thumbs[CAST[len(kept)]]})
    assert all(measure(params) <= 8000 for params in plan.puts) and "title.value" in plan.puts[0]
    again = plan_edit({"title": "t", "actor": CAST, "actorThumb": thumbs}, {}, [], measure, limit=8000)
    assert again == plan  # the same cut every time


@pytest.mark.parametrize("limit", [None, 8000])
def test_a_case_only_rename_removes_the_old_spelling_in_an_earlier_put(limit: int | None) -> None:
    plan = plan_edit({"genre": ["action", "drama"]}, {"genre": ["Action", "Comedy"]}, [], measure, limit=limit)
    assert plan.puts == [{"genre.locked": 1, "genre[].tag.tag-": "Action"},
                         {"genre.locked": 1, "genre[0].tag.tag": "action", "genre[1].tag.tag": "drama"}]


def test_an_empty_list_clears_the_type() -> None:
    assert plan_edit({"genre": []}, {"genre": ["a"]}, [], never_measured).puts == [
        {"genre.locked": 1, "genre[].tag": ""}]
