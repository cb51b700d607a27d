"""The optional metadata users ask for (issue 14), each on and off, as Stash runs the plugin; a second sync of an
unchanged scene sends Plex nothing."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e


@pytest.fixture()
def add(harness):
    """``add(relative_path, plex_title, **scene)`` → (Stash scene id, Plex rating key), one library."""
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")

    def add_scene(relative_path: str, plex_title: str, **scene) -> tuple[str, int]:
        size = 1000 + len(relative_path)
        key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/{relative_path}", size=size, title=plex_title)
        scene_id = harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/{relative_path}", "size": size}],
                                           **scene)
        return scene_id, key

    return add_scene


def sync_all(harness) -> dict:
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    return result.output


def assert_second_sync_sends_nothing(harness, *keys: int) -> None:
    harness.plex.reset_requests()
    output = sync_all(harness)
    assert output["queued"] == 0
    assert harness.plex.writes() == 0
    for key in keys:
        assert harness.plex.count(path_prefix=f"/library/metadata/{key}") == 0


def resync(harness, scene_id: str) -> None:
    harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id}, input_fields=["id"])
    harness.wait_idle()


def plexapi_item(harness, key: int):
    return PlexServer(harness.plex.url, lib.PLEX_TOKEN).fetchItem(key)


def test_title_from_filename_off_keeps_plex_title_on_writes_the_file_name(harness, add):
    untitled, key = add("Misc/clip_0001.v2.mp4", "Clip 0001 (agent)", title=None)
    sync_all(harness)
    assert harness.plex.item(key).fields["title"] == "Clip 0001 (agent)"
    assert "title" not in harness.plex.item(key).locks

    harness.settings(with_extras="file name titles")
    sync_all(harness)
    item = harness.plex.item(key)
    assert item.fields["title"] == "clip_0001.v2" and "title" in item.locks  # only the last extension goes
    assert_second_sync_sends_nothing(harness, key)

    harness.stash.update_scene(untitled, title="Named at last")
    resync(harness, untitled)
    assert harness.plex.item(key).fields["title"] == "Named at last"  # Stash's own title wins


def test_sort_title_moves_a_leading_date_and_drops_an_article(harness, add):
    _, dated = add("a.mp4", "a", title="2024-03-02 Harbour Lights")
    article_id, article = add("b.mp4", "b", title="The Harbour")
    _, plain = add("c.mp4", "c", title="Morning Run")
    sync_all(harness)
    assert all("titleSort" not in harness.plex.item(key).fields for key in (dated, article, plain))
    assert plexapi_item(harness, dated).titleSort == "2024-03-02 Harbour Lights"  # plexapi: defaults to title

    harness.settings(with_extras="sort titles")
    sync_all(harness)
    assert plexapi_item(harness, dated).titleSort == "Harbour Lights 2024-03-02"
    assert plexapi_item(harness, article).titleSort == "Harbour"
    assert plexapi_item(harness, plain).titleSort == "Morning Run"
    assert all("titleSort" in harness.plex.item(key).locks for key in (dated, article, plain))
    assert_second_sync_sends_nothing(harness, dated, article, plain)

    harness.stash.update_scene(article_id, title="A Quiet Harbour")
    resync(harness, article_id)
    assert plexapi_item(harness, article).titleSort == "Quiet Harbour"


def test_content_rating_fixed_and_from_tags(harness, add):
    softcore = harness.stash.add_tag("Softcore")
    hardcore = harness.stash.add_tag("Hardcore")
    tagged_id, tagged = add("a.mp4", "a", title="Tagged", tag_ids=[hardcore, softcore])
    _, untagged = add("b.mp4", "b", title="Untagged")
    harness.plex.set_field(tagged, "contentRating", "PG")
    sync_all(harness)
    assert harness.plex.item(tagged).fields["contentRating"] == "PG"  # off: Plex's own is left alone
    assert "contentRating" not in harness.plex.item(untagged).fields

    harness.settings(scene_content_rating="softcore=R; Hardcore=XXX; NC-17")
    sync_all(harness)
    assert plexapi_item(harness, tagged).contentRating == "R"  # the user's first rule wins, any case
    assert plexapi_item(harness, untagged).contentRating == "NC-17"
    assert "contentRating" in harness.plex.item(tagged).locks
    assert_second_sync_sends_nothing(harness, tagged, untagged)

    harness.stash.update_scene(tagged_id, tag_ids=[hardcore])
    resync(harness, tagged_id)
    assert plexapi_item(harness, tagged).contentRating == "XXX"


def test_a_broken_content_rating_rule_is_named(harness, add):
    harness.settings(content_rating_tags="Softcore R")
    result = harness.task("Health Check")
    assert result.error and "content_rating_tags" in result.error and "Tag=Rating" in result.error


def test_tag_collections_are_owned_like_studio_collections(harness, add):
    outdoor = harness.stash.add_tag("Outdoor")
    night = harness.stash.add_tag("Night")
    scene_id, key = add("a.mp4", "a", title="Harbour", tag_ids=[outdoor, night])
    harness.plex.set_tags(key, "collection", ["My Favourites", "Night"])  # the user's own, one named like a tag
    sync_all(harness)
    assert set(harness.plex.item(key).tags["collection"]) == {"My Favourites", "Night"}

    harness.settings(tag_collections="outdoor, Night")
    sync_all(harness)
    assert set(harness.plex.item(key).tags["collection"]) == {"My Favourites", "Night", "Outdoor"}
    assert "collection" in harness.plex.item(key).locks
    assert_second_sync_sends_nothing(harness, key)

    harness.stash.update_scene(scene_id, tag_ids=[])
    resync(harness, scene_id)
    assert set(harness.plex.item(key).tags["collection"]) == {"My Favourites", "Night"}  # only ours went


def test_group_collections_follow_membership_and_renames(harness, add):
    group = harness.stash.add_group("Summer Series")
    scene_id, key = add("a.mp4", "a", title="Harbour", group_ids=[group])
    harness.plex.set_tags(key, "collection", ["My Favourites"])
    sync_all(harness)
    assert harness.plex.item(key).tags["collection"] == ["My Favourites"]

    harness.settings(with_extras="group collections")
    sync_all(harness)
    assert set(harness.plex.item(key).tags["collection"]) == {"My Favourites", "Summer Series"}
    assert_second_sync_sends_nothing(harness, key)

    harness.stash.rename_group(group, "Summer Series II")
    result = harness.runner.run_hook("Group.Update.Post", int(group), input={"id": group, "name": "Summer Series II"},
                                     input_fields=["id", "name"])
    assert result.output["queued"] == "group"
    harness.wait_idle()
    assert set(harness.plex.item(key).tags["collection"]) == {"My Favourites", "Summer Series II"}

    harness.stash.update_scene(scene_id, group_ids=[])
    resync(harness, scene_id)
    assert harness.plex.item(key).tags["collection"] == ["My Favourites"]
