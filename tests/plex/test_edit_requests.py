"""How one edit is cut into PUTs (a pure function of the edit and a request-line measure)."""

from __future__ import annotations

from plexapi import utils

from plex.edit_requests import plan_edit


def measure(params: dict) -> int:
    """The query string's length as plexapi encodes it (a stand-in for the whole request line)."""
    return len(utils.joinArgs(params))


def test_an_unchanged_scene_is_no_put() -> None:
    assert plan_edit({}, {}, [], measure).puts == []


def test_an_edit_that_fits_is_one_put() -> None:
    plan = plan_edit({"title": "T", "genre": ["a", "b"]}, {"genre": ["c"]}, ["thumb"], measure)
    assert len(plan.puts) == 1 and plan.split_types == []
    assert plan.puts[0]["genre[].tag.tag-"] == "c" and plan.puts[0]["thumb.locked"] == 1


def test_scalars_first_then_each_tag_type_with_its_removals() -> None:
    changes = {"title": "T" * 300, "summary": "S" * 300, "genre": ["g" * 150, "h" * 150],
               "actor": ["a" * 150, "b" * 150]}
    before = {"genre": ["old genre"], "actor": ["old actor"]}
    plan = plan_edit(changes, before, [], measure, limit=700)
    assert all(measure(params) <= 700 for params in plan.puts)
    assert "title.value" in plan.puts[0] and not any("tag" in key for key in plan.puts[0])
    genre = next(params for params in plan.puts if "genre[0].tag.tag" in params)
    actor = next(params for params in plan.puts if "actor[0].tag.tag" in params)
    assert genre["genre[].tag.tag-"] == "old%20genre" and genre["genre[1].tag.tag"] == "h" * 150
    assert actor["actor[].tag.tag-"] == "old%20actor" and plan.split_types == []


def test_a_list_longer_than_one_request_goes_in_parts_with_continuing_indices() -> None:
    names = [f"name-{index:03d}-" + "x" * 40 for index in range(40)]
    plan = plan_edit({"actor": names}, {"actor": ["gone"]}, [], measure, limit=800)
    assert plan.split_types == ["actor"] and len(plan.puts) > 2
    assert all(measure(params) <= 800 for params in plan.puts)
    assert plan.puts[0]["actor[].tag.tag-"] == "gone"
    assert not any("actor[].tag.tag-" in params for params in plan.puts[1:])
    sent = {int(key[6:key.index("]")]): value for params in plan.puts for key, value in params.items()
            if key.endswith("].tag.tag") and key[6:key.index("]")].isdigit()}
    assert [sent[index] for index in sorted(sent)] == names and sorted(sent) == list(range(40))


def test_a_case_only_rename_removes_the_old_spelling_in_an_earlier_put() -> None:
    plan = plan_edit({"genre": ["action", "drama"]}, {"genre": ["Action", "Comedy"]}, [], measure)
    assert plan.puts == [{"genre.locked": 1, "genre[].tag.tag-": "Action"},
                         {"genre.locked": 1, "genre[].tag.tag-": "Comedy", "genre[0].tag.tag": "action",
                          "genre[1].tag.tag": "drama"}]


def test_an_empty_list_clears_the_type() -> None:
    assert plan_edit({"genre": []}, {"genre": ["a"]}, [], measure).puts == [
        {"genre.locked": 1, "genre[].tag.tag-": "a", "genre[].tag": ""}]
