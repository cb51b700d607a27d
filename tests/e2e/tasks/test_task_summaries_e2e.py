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
    assert infos[0].startswith("Queue: 0 ready to sync, 0 syncing now, 1 waiting for Plex, 0 retrying later, "
                               "0 failed; "), infos  # the waiting scene is not counted twice
    assert infos[1].startswith("Plex connection: OK; background worker "), infos
    named = [text for text in infos if text.startswith("Waiting for Plex: ")]
    assert named == [f"Waiting for Plex: 'Not in Plex yet' (scene {waiting}): Plex has not listed its file yet: "
                     f"{lib.PLEX_ROOT}/new.mp4. To fix: Nothing to do while Plex scans it: PlexSync looks again by "
                     "itself (Ask Plex to scan new files speeds this up). If the file is outside Plex's library "
                     "folders, add the folder in Plex or fix Path map, then run Health Check"], infos
    assert not any("ItemNotInPlex" in text for text in infos)

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
    assert info == ("Plex OK: library Stash Scenes (0 files indexed); Stash OK; Path map: none of 1 sampled Stash "
                    f"paths maps into a Plex library folder: {lib.STASH_ROOT}/x.mp4 → {lib.STASH_ROOT}/x.mp4; "
                    f"Plex's folders: {lib.PLEX_ROOT}. Add a rule such as {lib.STASH_ROOT}={lib.PLEX_ROOT} to Path map")


def test_queue_status_names_a_failed_scene_by_title_with_the_reason_and_the_fix(harness):
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT])
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/refused.mp4", size=5, title="refused")
    scene = harness.stash.add_scene(title="Refused by Plex", files=[{"path": f"{lib.STASH_ROOT}/refused.mp4",
                                                                    "size": 5}])
    harness.plex.fail(rf"[?&]id={key}(&|$)", 400, times=None, method="PUT")
    harness.settings(max_retries=1)
    harness.task("Sync All Scenes")
    infos = [text for level, text in harness.task("Queue Status").logs if level == "info"]
    assert infos[0].startswith("Queue: 0 ready to sync, 0 syncing now, 0 waiting for Plex, 0 retrying later, "
                               "1 failed; "), infos
    [failed] = [text for text in infos if text.startswith("Failed: ")]
    assert failed == (f"Failed: 'Refused by Plex' (scene {scene}): Plex refused the request (400 Bad Request) (tried "
                      "1 time). To fix: Check the scene in Stash for an unusual value, then run Retry Failed Jobs. If "
                      "it fails again, report it with PlexSync's worker log (Queue Status names the file)"), infos
    assert infos[-1] == f"The background worker's log: {harness.data_dir / 'logs' / 'worker.log'}"
