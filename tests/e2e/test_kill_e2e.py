"""SIGKILL at random points (Stash's only way to stop a plugin) loses nothing and leaves nothing stuck."""

from __future__ import annotations

import random
import time

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

SCENES = 40


def build_library(harness) -> dict[str, int]:
    section = harness.plex.add_section(title="Kill", locations=[lib.PLEX_ROOT], type="movie")
    keys = {}
    for n in range(SCENES):
        key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/k{n}.mp4", size=500 + n, title=f"k{n}")
        scene_id = harness.stash.add_scene(title=f"Killed {n}", files=[{"path": f"{lib.STASH_ROOT}/k{n}.mp4",
                                                                          "size": 500 + n}])
        keys[scene_id] = key
    return keys


def test_sigkill_of_a_draining_task_at_random_points_loses_nothing(harness):
    keys = build_library(harness)
    harness.settings(settle_seconds=0, sync_poster=False, sync_background=False)
    harness.plex.delay(r"^/library/sections/\d+/all$", 0.03)  # every write takes a little while
    for scene_id in keys:
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    rng = random.Random(7)
    for _ in range(5):
        running = harness.runner.start_task("Process Queue")
        time.sleep(rng.uniform(0.3, 1.5))
        running.kill()
        running.wait(timeout=30)
        status = harness.status()
        assert status["in_progress"] == 0, status  # the dead holder's claims count as pending
        assert status["pending"] + status["synced"] == SCENES
    result = harness.task("Process Queue")
    assert result.error is None, result.error
    status = harness.wait_idle()
    assert status["synced"] == SCENES and status["dead"] == 0
    for scene_id, key in keys.items():
        number = harness.stash.scene(scene_id)["title"].split()[-1]
        assert harness.plex.item(key).fields["title"] == f"Killed {number}"


def test_sigkill_of_the_detached_worker_is_recovered_by_the_next_hook(harness):
    import os
    import signal

    from sync_queue.store import Store

    keys = build_library(harness)
    harness.settings(settle_seconds=0, sync_poster=False, sync_background=False)
    harness.plex.delay(r"^/library/sections/\d+/all$", 0.3, method="PUT")  # a slow Plex: draining takes a while
    first, *rest = list(keys)
    harness.runner.run_hook("Scene.Update.Post", int(first), input=None)
    holder = None
    deadline = time.time() + 30
    while time.time() < deadline and not (holder and holder["pid"] and holder["wake_port"]):
        with Store(harness.data_dir) as store:
            holder = store.lease_holder()  # the worker has adopted the lease (pid and wake port recorded)
        time.sleep(0.05)
    assert holder is not None
    for scene_id in rest[:10]:
        assert harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None).output["worker"] == "running"
    os.kill(holder["pid"], getattr(signal, "SIGKILL", signal.SIGTERM))
    time.sleep(0.2)
    result = harness.runner.run_hook("Scene.Update.Post", int(rest[10]), input=None)
    assert result.output["worker"] == "started"  # the dead holder's lease did not block the takeover
    for scene_id in rest[11:]:
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    harness.plex.clear_faults()
    status = harness.wait_idle(timeout=120)
    assert status["synced"] == SCENES and status["in_progress"] == 0 and status["dead"] == 0
