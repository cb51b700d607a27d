"""One answer to "is there work?": hook events still in the intake (fan-out markers included) are work
for status, for the tasks' counts and for the decision to hand leftovers to a background worker."""

from __future__ import annotations

import time

import pytest

from hooks.intake import event_from_hook
from sync_queue.store import Store
from worker.sync.pauses import set_pause
from worker.tasks.sync_tasks import TaskFailed


@pytest.fixture()
def spawned(monkeypatch):
    """Stand-in for the detached process (the launcher's lease reservation stays real)."""
    calls: list[dict] = []

    def spawn(entry_script, handoff, cwd):
        calls.append(dict(handoff))
        return 0

    monkeypatch.setattr("sync_queue.intake.launcher.spawn_worker", spawn)
    return calls


def hook(world, trigger: str, object_id) -> None:
    """What a hook leaves behind when no worker absorbs it yet: one intake row."""
    with Store(world.data_dir) as store:
        store.append_event(event_from_hook({"type": trigger, "id": object_id}))


def test_status_counts_a_performer_hook_right_away(world):
    hook(world, "Performer.Update.Post", 7)
    status = world.run("status")
    assert status["fanout_pending"] == 1 and status["intake"] == 1
    hook(world, "Performer.Update.Post", 7)  # the same performer again is still one change
    assert world.run("status")["fanout_pending"] == 1


def test_health_after_a_pause_hands_a_waiting_performer_event_to_a_worker(world, spawned):
    with Store(world.data_dir) as store:
        set_pause(store, "auth", "Plex rejected the token (401)")
    hook(world, "Performer.Update.Post", 3)
    out = world.run("health")
    assert out["background_worker"] == "started" and len(spawned) == 1


def test_health_with_nothing_waiting_starts_no_worker(world, spawned):
    assert world.run("health")["background_worker"].startswith("not needed") and spawned == []


def test_a_task_hands_a_performer_change_that_came_in_meanwhile_to_a_worker(world, spawned):
    world.settings(settle_seconds=120)
    scene_id, _ = world.scene("f.mp4", title="F")
    world.queue(scene_id)
    performer = world.stash.add_performer("Late Edit")
    from tests.integration.conftest import REPO
    from worker.tasks.handlers import TaskContext, run_task

    fired: list[float] = []

    def progress(fraction: float) -> None:
        if not fired:  # after the first batch: a hook fires while the task drains
            hook(world, "Performer.Update.Post", performer)
        fired.append(fraction)

    ctx = TaskContext(data_dir=world.data_dir, plugin_dir=REPO, entry_script=REPO / "PlexSync.py",
                      server_connection=world.stash.server_connection(str(world.data_dir), str(REPO)),
                      progress=progress)
    out = run_task("process_queue", ctx)
    assert out["processed"] == 1 and out["fanout_pending"] == 1
    assert out["background_worker"] == "started" and len(spawned) == 1


def test_process_queue_with_a_rejected_token_counts_the_events_still_in_the_intake(world):
    for scene_id in (11, 12, 13):
        hook(world, "Scene.Update.Post", scene_id)
    hook(world, "Performer.Update.Post", 4)
    hook(world, "Tag.Update.Post", 5)
    world.settings(plex_token="not-the-token")
    with pytest.raises(TaskFailed, match="Nothing was lost: 3 scenes and 2 performer/studio/tag/group changes "
                                         "stay queued") as failure:
        world.run("process_queue")
    assert failure.value.output["pending"] == 3 and failure.value.output["fanout_pending"] == 2


def test_a_disabled_plugins_tasks_count_the_intake(world):
    hook(world, "Scene.Update.Post", 21)
    hook(world, "Scene.Update.Post", 22)
    hook(world, "Studio.Update.Post", 2)
    world.settings(sync_paused=True)
    out = world.run("sync_all")
    assert out["remaining"] == 2 and out["fanout_pending"] == 1


def test_has_work_sees_every_kind_of_waiting_work(tmp_path):
    with Store(tmp_path) as store:
        assert store.has_work() is False
        store.append_event({"kind": "destroy", "id": "9", "at": time.time()})
        assert store.has_work() is True  # someone must still apply it
        store.absorb_intake(0.0)
        assert store.has_work() is False
        store.append_event({"kind": "group", "id": "4", "at": time.time()})
        store.absorb_intake(60.0)
        assert store.status_counts(None)["fanout_pending"] == 1 and store.has_work() is True
