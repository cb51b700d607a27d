"""What a run costs: the detached worker closes every store it opens, and a group rename (which reaches no
Plex field) does not re-read the group's scenes from Stash."""

from __future__ import annotations

import time

from sync_queue.store import Store
from tests.integration.conftest import REPO


def test_the_detached_worker_opens_one_store_per_thread_and_closes_them_all(world, monkeypatch):
    from validation import stash_log
    from worker.process.daemon import run_detached

    opened: list[Store] = []
    original_init = Store.__init__

    def tracking_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        opened.append(self)

    scene_id, key = world.scene("w.mp4", title="By the worker")
    world.queue(scene_id)
    monkeypatch.setattr(Store, "__init__", tracking_init)
    handoff = {"data_dir": str(world.data_dir),
               "server_connection": world.stash.server_connection(str(world.data_dir), str(REPO))}
    try:
        assert run_detached(handoff, REPO) == 0
    finally:
        stash_log.configure()  # the worker pointed logging at its (now closed) log file
    assert world.plex.item(key).fields["title"] == "By the worker"
    assert len(opened) == 2  # the worker's thread and the lease heartbeat
    assert all(store._conn is None and store._intake is None for store in opened)


def test_a_group_change_reads_no_scenes_from_stash(world):
    group = world.stash.add_group("Series")
    scene_id, _ = world.scene("g.mp4", title="In a group", group_ids=[group])
    world.queue(scene_id)
    world.run("process_queue")
    with Store(world.data_dir) as store:
        store.append_event({"kind": "group", "id": str(group), "at": time.time()})
    world.stash.reset_queries()
    out = world.run("process_queue")
    assert out["processed"] == 0 and out["fanout_pending"] == 0
    assert not [query for _, query, _ in world.stash.queries if "findScenes" in query]
