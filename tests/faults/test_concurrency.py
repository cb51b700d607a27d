"""Several runs at once, as Stash allows: hooks, tasks and the detached worker share one queue and never
sync a scene twice or lose one."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e


def test_two_process_queue_tasks_at_once_hand_over_and_sync_each_scene_once(harness):
    _, keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    harness.settings(settle_seconds=3600)  # the hooks only queue; the tasks do the work
    for scene_id in scene_ids.values():
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    harness.settings()
    first, second = harness.runner.start_task("Process Queue"), harness.runner.start_task("Process Queue")
    results = [first.wait(240), second.wait(240)]
    assert [r.error for r in results] == [None, None], [r.error for r in results]
    status = harness.wait_idle()
    assert status["dead"] == 0 and status["synced"] + status["skipped"] == len(scene_ids), status
    titled = [harness.plex.item(key).fields["title"] for key in keys.values()]
    assert "Harbour Lights" in titled
    puts_per_item = {}
    for request in harness.plex.requests:
        if request.method == "PUT" and request.param("id"):
            puts_per_item[request.param("id")] = puts_per_item.get(request.param("id"), 0) + 1
    assert puts_per_item and max(puts_per_item.values()) == 1, puts_per_item  # nobody pushed a scene twice
