"""Ratings from Plex into Stash as Stash runs the plugin (issue 21): Import Plex Plays with ratings_from_plex, the
update hook Stash runs for the plugin's own write, a SIGKILL in the middle, and both sides changing at once."""

from __future__ import annotations

import os

import pytest

from emulators import demo_library as lib
from tests.e2e.conftest import kill_after_third_write
from tests.integration.viewing.test_ratings import plex_user_rating as plex_rating
from tests.integration.viewing.test_ratings import rate_in_plex as rate
from tests.integration.viewing.test_ratings import stash_rating100 as stash_rating
from worker.viewing.stash_calls import epoch_of

pytestmark = pytest.mark.e2e


@pytest.fixture()
def synced(harness):
    """The demo library synced once (ratings 80, 60, 100, none, 40, none reach Plex), then ratings_from_plex on."""
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    assert harness.task("Sync All Scenes").error is None
    harness.settings(ratings_from_plex=True)
    harness.plex.reset_requests()
    harness.stash.reset_queries()
    return [(scene_ids[scene.relative_path], rating_keys[scene.relative_path]) for scene in lib.SCENES]


def rating_puts(harness) -> int:
    return sum(1 for r in harness.plex.requests if r.method == "PUT" and r.param("userRating.value") is not None)


def rating_writes(harness) -> dict[str, int]:
    """Scene id → how many sceneUpdate calls the plugin made for it."""
    counts: dict[str, int] = {}
    for name, _, variables in harness.stash.queries:
        if name == "PlexSyncSetRating":
            counts[variables["input"]["id"]] = counts.get(variables["input"]["id"], 0) + 1
    return counts


def hook_after_our_write(harness, *scene_ids) -> None:
    """Stash runs Scene.Update.Post for each sceneUpdate (the plugin's own too); the worker syncs the scenes."""
    for scene_id in scene_ids:
        assert harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id, "rating100": 0},
                                       input_fields=["id", "rating100"]).error is None
    harness.wait_idle()


def test_a_plex_rating_arrives_a_later_stash_edit_goes_back_and_a_clear_clears(harness, synced):
    (s0, k0), (s1, k1) = synced[0], synced[1]
    rate(harness, k0, 9.0)
    rate(harness, k1, None)
    result = harness.task("Import Plex Plays")
    assert result.error is None, result.error
    assert ("info", "Imported 0 plays for 0 scenes from Plex; 0 resume points; 2 ratings (1 cleared)") in result.logs
    assert (stash_rating(harness, s0), stash_rating(harness, s1)) == (90, None)
    hook_after_our_write(harness, s0, s1)
    assert rating_puts(harness) == 0  # imported ratings are not pushed back

    harness.stash.update_scene(s0, rating100=30)  # the user changes it in Stash afterwards
    hook_after_our_write(harness, s0)
    assert plex_rating(harness, k0) == 3.0 and rating_puts(harness) == 1
    again = harness.task("Import Plex Plays")
    assert again.output["ratings"]["imported"] == 0  # and it does not come back
    assert stash_rating(harness, s0) == 30 and rating_writes(harness) == {s0: 1, s1: 1}


def test_when_both_changed_the_newer_side_wins_and_the_log_says_so(harness, synced):
    (s0, k0), (s2, k2) = synced[0], synced[2]
    harness.stash.update_scene(s0, rating100=20)
    harness.stash.update_scene(s2, rating100=20)
    edited = epoch_of(harness.stash.scene(s2)["updated_at"])
    rate(harness, k0, 5.0, at=edited - 600)  # older than the Stash edit
    rate(harness, k2, 7.0, at=edited + 600)  # newer
    result = harness.task("Import Plex Plays")
    assert result.error is None, result.error
    lines = [text for level, text in result.logs if level == "info"]
    assert any(text.startswith(f"Scene {s0}: the rating changed") and "Stash's is newer" in text for text in lines)
    assert any(text.startswith(f"Scene {s2}: the rating changed") and "Plex's is newer" in text for text in lines)
    assert (stash_rating(harness, s0), stash_rating(harness, s2)) == (20, 70)
    harness.wait_idle()  # the scene whose Stash rating won was queued for a push
    assert plex_rating(harness, k0) == 2.0 and plex_rating(harness, k2) == 7.0


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_mid_import_then_a_rerun_loses_and_doubles_no_rating(harness, synced):
    wanted = {}
    for n, (scene_id, rating_key) in enumerate(synced):
        rate(harness, rating_key, float(n + 1))
        wanted[scene_id] = (n + 1) * 10
    assert kill_after_third_write(harness, "sceneUpdate", "Import Plex Plays") == -9
    assert sum(stash_rating(harness, s) == r for s, r in wanted.items()) == 3

    for _ in range(2):
        rerun = harness.task("Import Plex Plays")
        assert rerun.error is None, rerun.error
    assert {s: stash_rating(harness, s) for s in wanted} == wanted
    assert rating_writes(harness) == dict.fromkeys(wanted, 1)  # every rating written once, the killed one too
