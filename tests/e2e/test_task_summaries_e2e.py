"""Every task ends with an Info line that says what happened in words: at Stash's default level that line
(and ``error``) is all a user sees, since Stash logs a task's ``output`` only at Debug."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e


def last_info(result) -> str:
    assert result.error is None, result.error
    infos = [text for level, text in result.logs if level == "info"]
    assert infos, result.logs
    return infos[-1]


def test_each_task_ends_with_an_info_line_in_words(harness):
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    waiting = harness.stash.add_scene(title="Not in Plex yet", files=[{"path": f"{lib.STASH_ROOT}/new.mp4", "size": 5}])
    total = len(scene_ids) + 1

    info = last_info(harness.task("Health Check"))
    assert info == "Plex OK: library Stash Scenes (0 files indexed); Stash OK"

    info = last_info(harness.task("Sync All Scenes"))
    assert info == (f"Sync All: {total} of {total} scenes differed from Plex. Synced {total - 1}; "
                    "1 waiting for Plex to list its file; 1 scene still queued (a background worker goes on "
                    "with them)"), info

    info = last_info(harness.task("Sync Recent Scenes"))
    assert info.startswith("Sync Recent: 1 of "), info  # the one not in Plex yet is tried again
    assert "1 waiting for Plex to list its file" in info

    info = last_info(harness.task("Process Queue"))
    assert info.startswith("Process Queue: Synced 0; 1 waiting for Plex to list its file"), info

    info = last_info(harness.task("Reconcile Library"))
    assert info.startswith("Reconcile: "), info

    status = harness.task("Queue Status")
    infos = [text for level, text in status.logs if level == "info"]
    assert infos[0].startswith("Queue: 1 pending, 0 in progress, 0 performer/studio/tag/group changes, "
                               "0 dead letters; "), infos
    assert infos[1].startswith("Worker "), infos
    assert infos[-1] == f"Needs attention: scene {waiting} waiting for Plex to list its file (ItemNotInPlex)", infos

    assert last_info(harness.task("Retry Failed Jobs")) == ("Retry Failed Jobs: moved 0 dead letters back to the "
                                                           "queue; Process Queue syncs them now")
    assert last_info(harness.task("Clear Dead-Letter Queue")) == "Clear Dead-Letter Queue: deleted 0 dead letters"
    assert last_info(harness.task("Purge Old Dead Letters")) == ("Purge Old Dead Letters: deleted 0 dead letters "
                                                                "older than 30 days")
    assert last_info(harness.task("Clear Pending Queue")) == ("Clear Pending Queue: dropped 1 pending job; those "
                                                             "scenes sync again when edited or by Sync All")
    info = last_info(harness.task("Rebuild Plex Index"))
    assert info.startswith("Rebuild Plex Index: forgot "), info
    assert "indexed" in info and "in Stash Scenes" in info
    info = last_info(harness.task("Health Check"))
    assert info == f"Plex OK: library Stash Scenes ({len(rating_keys)} files indexed); Stash OK"


def test_health_check_info_line_names_a_path_map_that_maps_nothing(harness):
    lib.populate_plex(harness.plex)
    harness.stash.add_scene(title="Unmapped", files=[{"path": f"{lib.STASH_ROOT}/x.mp4", "size": 5}])
    harness.settings(path_map="")
    info = last_info(harness.task("Health Check"))
    assert info == ("Plex OK: library Stash Scenes (0 files indexed); Stash OK; path_map: none of 1 sampled Stash "
                    f"paths maps into a Plex library folder: {lib.STASH_ROOT}/x.mp4 → {lib.STASH_ROOT}/x.mp4; "
                    f"Plex's folders: {lib.PLEX_ROOT}. Add a rule such as {lib.STASH_ROOT}={lib.PLEX_ROOT} to Path map")
