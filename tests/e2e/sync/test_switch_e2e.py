"""Switching PlexSync off keeps edits queued; switching it on again syncs them (nothing lost either way)."""

from __future__ import annotations

import time

import pytest

from emulators import demo_library as lib
from sync_queue.schema import KV_SETTINGS_CACHE
from sync_queue.store import Store

pytestmark = pytest.mark.e2e


def wait_for_no_worker(harness, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with Store(harness.data_dir) as store:
            if store.lease_holder() is None:
                return
        time.sleep(0.2)
    raise AssertionError("the worker did not exit")


def test_edits_made_while_switched_off_sync_once_switched_on(harness):
    section = harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    keys, scene_ids = [], []
    for n in range(2):
        keys.append(harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/off{n}.mp4", size=10, title=f"off{n}"))
        scene_ids.append(harness.stash.add_scene(title=f"Edited while off {n}",
                                                 files=[{"path": f"{lib.STASH_ROOT}/off{n}.mp4", "size": 10}]))
    harness.settings(sync_paused=True)
    first = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[0]), input={"id": scene_ids[0]})
    assert first.error is None and first.output["queued"] == "scene"
    wait_for_no_worker(harness)  # the worker it started read "off" from Stash and left
    second = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[1]), input={"id": scene_ids[1]})
    assert second.output["worker"] == "disabled"  # no process per edit while off
    assert harness.status()["pending"] == 2
    assert harness.plex.item(keys[0]).fields["title"] == "off0"  # nothing went to Plex

    harness.settings(sync_paused=False)
    with Store(harness.data_dir) as store:  # as if the minute the hook trusts an "off" for had passed
        cache = store.get_json(KV_SETTINGS_CACHE)
        store.set_json(KV_SETTINGS_CACHE, {**cache, "read_at": time.time() - 3600})
    third = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[1]), input={"id": scene_ids[1]})
    assert third.output["worker"] == "started"
    final = harness.wait_idle()
    assert final["synced"] == 2 and final["pending"] == 0
    assert [harness.plex.item(key).fields["title"] for key in keys] == ["Edited while off 0", "Edited while off 1"]


def test_a_worker_that_cannot_start_says_why_and_hooks_stop_spawning_it(harness):
    scene_id = harness.stash.add_scene(title="Waits", files=[{"path": f"{lib.STASH_ROOT}/w.mp4", "size": 1}])
    harness.stash.set_plugin_settings("PlexSync", {"plex_url": "not a url"})  # and no token
    first = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id})
    assert first.output["worker"] == "started"
    wait_for_no_worker(harness)
    status = harness.status()
    failure = status["worker_start_failure"]
    assert failure is not None and "Plex URL" in failure["message"] and "Plex token" in failure["message"]
    assert status["pending"] == 1  # the edit waits for working settings
    second = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id})
    assert second.output["worker"] == "paused"  # not one doomed process per save
    assert "Plex URL" in (harness.data_dir / "logs" / "worker.log").read_text(encoding="utf-8")
