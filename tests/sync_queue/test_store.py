"""The durable store: coalescing, generations, due times, outcomes, lease, dead letters."""

from __future__ import annotations

import os
import time

import pytest

from plex.library_index import IndexedPart
from sync_queue.store import Store


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "data") as store:
        yield store


def hold_lease(store, token):
    """Claims are taken only by the live lease holder."""
    assert store.acquire_lease(token, 3600, pid=os.getpid())


def scene_event(scene_id, at=None, kind="scene"):
    return {"kind": kind, "id": str(scene_id), "event": "Scene.Update.Post", "at": at or time.time()}


def test_hook_events_coalesce_per_scene(store):
    for scene_id in [1, 2, 1, 3, 1, 2]:
        store.append_event(scene_event(scene_id))
    assert store.intake_size() == 6
    assert store.absorb_intake(settle_s=0) == 6
    assert store.intake_size() == 0
    assert store.counts()["pending"] == 3
    assert store.scene_state(1)["generation"] == 3


def test_settle_window_delays_claims(store):
    store.append_event(scene_event(7))
    store.absorb_intake(settle_s=60)
    hold_lease(store, "t")
    assert store.claim_batch("t", 10) == []
    assert store.next_due_s() == pytest.approx(time.time() + 60, abs=2)
    assert [c.scene_id for c in store.claim_batch("t", 10, now_s=time.time() + 61)] == [7]


def test_edit_landing_mid_sync_stays_pending(store):
    store.queue_scenes([5])
    hold_lease(store, "tok")
    (claim,) = store.claim_batch("tok", 10)
    store.queue_scenes([5])  # the user edits again while we push the previous state
    assert store.mark_synced("tok", 5, rating_key=9, section_id=1, match_method="path", push_record="{}",
                             fingerprint="f", stash_updated_at=None)
    state = store.scene_state(5)
    assert state["done_generation"] == claim.generation < state["generation"]
    assert [c.scene_id for c in store.claim_batch("tok", 10)] == [5]


def test_outcomes_need_the_claim_token(store):
    store.queue_scenes([1])
    hold_lease(store, "mine")
    store.claim_batch("mine", 10)
    assert not store.mark_synced("other", 1, rating_key=1, section_id=1, match_method="path", push_record="{}",
                                 fingerprint="f", stash_updated_at=None)
    assert store.counts("mine")["in_progress"] == 1


def test_retry_backs_off_without_losing_work(store):
    store.queue_scenes([1])
    hold_lease(store, "t")
    store.claim_batch("t", 10)
    store.mark_retry("t", 1, delay_s=300, error_class="PlexUnavailable", message="down")
    assert store.claim_batch("t", 10) == []
    assert store.counts()["pending"] == 1
    assert store.make_all_due() == 1
    assert [c.attempts for c in store.claim_batch("t", 10)] == [1]


def test_dead_letter_then_retry_and_purge(store):
    store.queue_scenes([1, 2])
    hold_lease(store, "t")
    store.claim_batch("t", 10)
    store.mark_dead("t", 1, error_class="PlexRejected", message="(400) bad request")
    store.mark_dead("t", 2, error_class="PlexRejected", message="(403) forbidden")
    letters = store.dead_letters()
    assert [(d["scene_id"], d["error_class"]) for d in letters] == [(1, "PlexRejected"), (2, "PlexRejected")]
    assert store.counts()["dead"] == 2 and store.counts()["pending"] == 0
    assert store.purge_dead_letters(older_than_days=1) == 0
    assert store.retry_dead_letters() == 2
    assert store.counts()["pending"] == 2 and store.counts()["dead"] == 0
    store.claim_batch("t", 10)
    store.mark_dead("t", 1, error_class="X", message="y")
    store.conn.execute("UPDATE dead_letters SET last_failed_at = 0")
    assert store.purge_dead_letters(older_than_days=30) == 1


def test_success_clears_a_dead_letter(store):
    store.queue_scenes([1])
    hold_lease(store, "t")
    store.claim_batch("t", 1)
    store.mark_dead("t", 1, error_class="X", message="y")
    store.queue_scenes([1])  # a new edit gives it another chance
    store.claim_batch("t", 1)
    store.mark_synced("t", 1, rating_key=3, section_id=1, match_method="path", push_record="{}",
                      fingerprint="f", stash_updated_at="2026-01-01T00:00:00Z")
    assert store.dead_letters() == []
    assert store.counts()["synced"] == 1


def test_destroy_forgets_the_scene(store):
    store.queue_scenes([4])
    store.append_event(scene_event(4, kind="destroy"))
    store.absorb_intake(0)
    assert store.scene_state(4) is None


def test_fanout_markers_expand_once(store):
    store.append_event({"kind": "performer", "id": "12", "at": time.time()})
    store.append_event({"kind": "performer", "id": "12", "at": time.time()})
    store.absorb_intake(0)
    assert store.due_fanouts() == [("performer", "12", 0)]
    assert store.expand_fanout("performer", "12", [1, 2, 3]) == 3
    assert store.due_fanouts() == []
    assert store.counts()["pending"] == 3


def test_unacked_intake_survives_a_crash_and_is_resumed(tmp_path):
    data = tmp_path / "d"
    with Store(data) as first:
        first.append_event(scene_event(1))
        first.intake.get(block=False, raw=True)  # taken, then the process "dies" before acking
    with Store(data) as second:
        assert second.absorb_intake(0) == 0
        second.resume_intake()
        assert second.absorb_intake(0) == 1
        assert second.counts()["pending"] == 1


def test_lease_is_exclusive_and_expires(store):
    assert store.acquire_lease("a", ttl_s=30, pid=1)
    assert not store.acquire_lease("b", ttl_s=30, pid=2)
    assert store.lease_holder()["token"] == "a"
    store.conn.execute("UPDATE lease SET expires_at = 0, expires_mono = 0")
    assert store.lease_holder() is None
    assert store.acquire_lease("b", ttl_s=30, pid=2)
    assert not store.renew_lease("a", ttl_s=30)


def test_new_lease_holder_reclaims_stale_claims(store):
    store.queue_scenes([1, 2])
    store.acquire_lease("dead-worker", ttl_s=30, pid=1)
    store.claim_batch("dead-worker", 10)
    assert store.counts("dead-worker")["in_progress"] == 2
    assert store.counts(None)["in_progress"] == 0  # nobody alive holds them: they are pending
    store.conn.execute("UPDATE lease SET expires_at = 0, expires_mono = 0")
    store.acquire_lease("new", ttl_s=30, pid=2)
    assert len(store.claim_batch("new", 10)) == 2


def test_clear_pending_keeps_links_and_reports_count(store):
    store.queue_scenes([1, 2, 3])
    assert store.clear_pending() == 3
    assert store.counts()["pending"] == 0


def test_kv_round_trip(store):
    store.set_json("stats", {"plex_requests": 2})
    assert store.get_json("stats") == {"plex_requests": 2}
    store.delete_key("stats")
    assert store.get_json("stats", "none") == "none"


def _items(*rows):
    """(rating_key, rows) per item, as a listing hands them to the store."""
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return list(grouped.items())


def test_index_lookup_by_path_and_basename(store):
    rows = [(10, "/m/a.mp4", "a.mp4", "/m/a.mp4", 5, 100, 100), (11, "/n/a.mp4", "a.mp4", "/n/a.mp4", 6, 200, 200)]
    store.replace_index_items(1, _items(*rows))
    assert store.parts_by_path_key("/m/a.mp4") == [IndexedPart(10, 1, "/m/a.mp4", 5, 100, 100)]  # plex's record
    assert sorted(r.rating_key for r in store.parts_by_basename_key("a.mp4")) == [10, 11]
    store.drop_index_item(10)
    assert store.index_size() == 1


def test_pruning_a_section_keeps_exactly_the_items_the_listing_named(store):
    rows = [(10, "/m/a.mp4", "a.mp4", "/m/a.mp4", 5, 100, 100), (11, "/m/b.mp4", "b.mp4", "/m/b.mp4", 6, 200, 200)]
    store.replace_index_items(1, _items(*rows))
    store.replace_index_items(2, _items((12, "/x/c.mp4", "c.mp4", "/x/c.mp4", 7, 300, 300)))
    assert store.prune_index_section(1, {11}) == 1
    assert [r.rating_key for r in store.parts_by_basename_key("a.mp4")] == []
    assert store.index_size(1) == 1 and store.index_size(2) == 1  # another library is left alone


def test_a_listed_item_replaces_its_rows_whole_and_takes_its_paths_from_other_items(store):
    store.replace_index_items(1, _items((10, "/m/a.mp4", "a.mp4", "/m/a.mp4", 5, 1, 1),
                                        (10, "/m/b.mp4", "b.mp4", "/m/b.mp4", 6, 1, 1)))
    # Item 10 was deleted and its first file came back as item 11 (one item per file and library); item 10's
    # second file moved on disk.
    written, removed = store.replace_index_items(1, _items((11, "/m/a.mp4", "a.mp4", "/m/a.mp4", 5, 2, 2)))
    assert (written, removed) == (1, 1)
    assert [part.rating_key for part in store.parts_by_path_key("/m/a.mp4")] == [11]
    assert store.replace_index_items(1, [(10, [(10, "/n/b.mp4", "b.mp4", "/n/b.mp4", 6, 1, 3)])]) == (1, 1)
    assert store.parts_by_path_key("/m/b.mp4") == [] and store.index_size(1) == 2
    assert store.replace_index_items(1, [(10, [])]) == (0, 1)  # an item listed with no file keeps no row


def test_a_scene_waiting_for_the_index_is_queued_again_when_a_row_for_its_file_comes_or_goes(store):
    store.queue_scenes([7, 8])
    store.wait_for_index(7, ["/m/a.mp4"], ["a.mp4"])
    store.wait_for_index(8, ["/m/zzz.mp4"], ["zzz.mp4"])
    store.conn.execute("UPDATE scenes SET done_generation = generation")  # both skipped
    store.replace_index_items(1, _items((10, "/other/a.mp4", "a.mp4", "/other/a.mp4", 5, 1, 1)))  # its name
    assert store.pending_scene_ids() == {7} and 7 not in store.index_waits()
    assert store.index_waits() == {8: {"path:/m/zzz.mp4", "name:zzz.mp4"}}
    store.replace_index_items(1, _items((11, "/m/zzz.mp4", "zzz.mp4", "/m/zzz.mp4", 5, 1, 1)))
    assert store.pending_scene_ids() == {7, 8} and store.index_waits() == {}


def test_a_dead_holder_loses_the_lease_at_once(store):
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert store.acquire_lease("gone", ttl_s=300, pid=child.pid)
    assert store.lease_holder() is None
    assert store.acquire_lease("next", ttl_s=300, pid=1)


def test_intake_size_sees_other_processes_events(tmp_path):
    with Store(tmp_path) as worker_view:
        assert worker_view.intake_size() == 0
        with Store(tmp_path) as hook_view:
            hook_view.append_event(scene_event(1))
        assert worker_view.intake_size() == 1


def test_malformed_intake_events_are_dropped_not_stuck(store):
    store.append_event({"kind": "scene", "id": "3", "at": "yesterday"})
    store.append_event(["not", "an", "event"])
    store.append_event({"kind": "scene", "id": "../etc"})
    assert store.absorb_intake(0) == 3
    assert store.intake_size() == 0 and store.counts()["pending"] == 1


def test_status_view_of_unabsorbed_events_is_read_only(store):
    store.append_event(scene_event(4))
    store.append_event(scene_event(4))
    store.append_event({"kind": "tag", "id": "9", "at": time.time()})
    store.append_event(scene_event(6))
    store.queue_scenes([4, 5])
    assert store.status_counts(None)["pending"] == 3  # 4 and 5 queued, 6 only in the intake, each once
    assert store.intake_size() == 4  # nothing was absorbed by looking


def test_status_counts_events_a_worker_took_but_has_not_applied(tmp_path):
    """The window between taking intake rows and committing them to ``scenes`` must not hide them."""
    with Store(tmp_path) as hooks:
        for scene_id in (1, 2, 3):
            hooks.append_event(scene_event(scene_id))
    with Store(tmp_path) as worker, Store(tmp_path) as status_view:
        taken = [worker.intake.get(block=False, raw=True) for _ in range(2)]  # unacked, not applied yet
        assert status_view.intake_size() == 1
        assert status_view.status_counts(None)["pending"] == 3
        for raw in taken:
            worker.intake.ack(id=raw["pqid"])
        assert status_view.status_counts(None)["pending"] == 1  # acked rows are the worker's now


def test_a_holder_whose_lease_expired_claims_nothing(store):
    store.queue_scenes([1, 2])
    assert store.acquire_lease("sleepy", 0.01, pid=os.getpid())
    time.sleep(0.05)  # the laptop slept past the lease
    assert store.claim_batch("sleepy", 10) == []
    assert store.acquire_lease("new", 3600, pid=os.getpid())
    assert store.claim_batch("sleepy", 10) == []  # never next to the new holder
    assert [c.scene_id for c in store.claim_batch("new", 10)] == [1, 2]


def test_a_synced_scene_with_a_new_edit_in_the_intake_counts_as_pending_only(store):
    store.queue_scenes([1])
    hold_lease(store, "t")
    store.claim_batch("t", 1)
    store.mark_synced("t", 1, rating_key=3, section_id=1, match_method="path", push_record="{}",
                      fingerprint="f", stash_updated_at=None)
    store.append_event(scene_event(1))  # edited again; no worker has absorbed it yet
    counts = store.status_counts(None)
    assert (counts["pending"], counts["synced"]) == (1, 0)


def test_fingerprints_are_read_for_the_scenes_asked_about_only(store):
    from sync_queue.scenes import IDS_PER_SELECT

    ids = list(range(1, IDS_PER_SELECT + 3))  # more than one SELECT's worth
    store.queue_scenes(ids)
    hold_lease(store, "t")
    store.claim_batch("t", len(ids))
    for scene_id in ids[1:]:
        store.mark_synced("t", scene_id, rating_key=scene_id, section_id=1, match_method="path", push_record="{}",
                          fingerprint=f"f{scene_id}", stash_updated_at=None)
    asked = [*ids[:3], ids[-1], 99999]
    assert store.fingerprints(asked) == {2: "f2", 3: "f3", ids[-1]: f"f{ids[-1]}"}  # 1 never synced, 99999 unknown
