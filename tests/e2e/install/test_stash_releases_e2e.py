"""The core sync on the oldest Stash PlexSync supports and on the newest, as Stash runs the plugin (issue 19,
part 3), with every query the real stashapi client sends validated against that release's schema.

The oldest is v0.24.3 (Stash's schema files of that tag): it has no groups (movies stand in: Stash #5017 renamed
them in v0.27); ``findScenes(ids:)`` and ``plugins(include: [ID!])`` arrived in v0.25 (#4493, #4511), and so did
play history (#4532)."""

from __future__ import annotations

import hashlib

import pytest

from emulators import demo_library as lib
from emulators.stash.releases import NEWEST, OLDEST
from emulators.stash.server import StashEmulator

pytestmark = pytest.mark.e2e

GROUP_IMAGE = b"\x89PNG-group-front"


@pytest.fixture(params=[OLDEST.version, NEWEST.version])
def stash(request):
    with StashEmulator(release=request.param) as emulator:
        yield emulator


def test_the_core_sync_runs_on_the_oldest_and_the_newest_stash(harness, stash):
    section = harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/harbour.mp4", size=777, title="harbour")
    parent = stash.add_studio("Brightline")
    studio = stash.add_studio("Brightline Europe", parent_id=parent)
    group = stash.add_group("Summer Series")
    stash.set_image("group", group, GROUP_IMAGE)
    scene = stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/harbour.mp4", "size": 777}], title="Harbour Lights",
                            studio_id=studio, performer_ids=[stash.add_performer("Ava Stone")],
                            tag_ids=[stash.add_tag("Outdoor")], group_ids=[group], rating100=80)
    harness.settings(group_collections=True)

    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    assert result.output["processed"] == 1
    item = harness.plex.item(key)
    assert (item.fields["title"], item.fields["studio"]) == ("Harbour Lights", "Brightline Europe")
    assert (item.tags["actor"], item.tags["genre"]) == (["Ava Stone"], ["Outdoor"])
    assert set(item.tags["collection"]) == {"Brightline Europe", "Brightline", "Summer Series"}  # the group's too
    summer = harness.plex.library.section(section).collections["Summer Series"]
    poster = harness.plex.library.collection_art(summer).selected_poster
    assert poster == "upload://posters/" + hashlib.sha1(GROUP_IMAGE).hexdigest()  # from the release's own route

    stash.update_scene(scene, title="Harbour Lights at Dusk")
    assert harness.runner.run_hook("Scene.Update.Post", int(scene), input={"id": scene},
                                   input_fields=["id", "title"]).error is None
    harness.wait_idle()
    assert harness.plex.item(key).fields["title"] == "Harbour Lights at Dusk"

    harness.plex.watch.play(key, viewed_stamp=1_760_000_000)
    plays = harness.task("Import Plex Plays")
    assert plays.error is None, plays.error
    if stash.release is OLDEST:  # no play history before v0.25: the import says so and changes nothing
        needs = "Importing plays from Plex (Stash's play history) needs Stash 0.25.0 or newer; this Stash is v0.24.3"
        assert needs in plays.output["skipped"]
        assert any(level == "warning" and needs in text for level, text in plays.logs), plays.logs
        assert stash.plays.of(scene).plays == []
    else:
        assert plays.output["imported"] == 1 and len(stash.plays.of(scene).plays) == 1
