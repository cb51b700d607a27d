"""The path index stays true: a future-dated item can't hide new ones; a daily full listing drops deleted ones."""

from __future__ import annotations

import time

from emulators import demo_library as lib
from sync_queue.store import Store
from worker.index_sync import FULL_STAMP_KEY, refresh_index


def indexed_keys(store: Store) -> set[int]:
    return {row[0] for row in store.conn.execute("SELECT rating_key FROM plex_index")}


def test_an_item_dated_in_the_future_does_not_hide_later_additions(world):
    rt = world.runtime()
    ahead = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/ahead.mp4", size=1, title="ahead",
                                added_at=int(time.time()) + 30 * 86400)  # a NAS file date, or an edited addedAt
    refresh_index(rt.store, rt.plex, rt.sections)
    later = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/later.mp4", size=2, title="later",
                                added_at=int(time.time()))
    refresh_index(rt.store, rt.plex, rt.sections)  # incremental
    assert indexed_keys(rt.store) == {ahead, later}
    rt.close()


def test_a_day_old_index_is_listed_in_full_and_forgets_deleted_items(world):
    rt = world.runtime()
    kept = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/kept.mp4", size=1, title="kept")
    gone = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/gone.mp4", size=1, title="gone")
    refresh_index(rt.store, rt.plex, rt.sections)
    with world.plex.library.lock:
        del world.plex.library.items[gone]  # deleted in Plex (trash emptied)
    refresh_index(rt.store, rt.plex, rt.sections)
    assert indexed_keys(rt.store) == {kept, gone}  # an incremental pass can't see deletions
    rt.store.set_json(FULL_STAMP_KEY, {str(world.section): time.time() - 2 * 86400})
    refresh_index(rt.store, rt.plex, rt.sections)
    assert indexed_keys(rt.store) == {kept}
    rt.close()


def test_a_scene_whose_item_was_re_added_is_matched_again_without_a_reconcile(world):
    scene_id, old_key = world.scene("readded.mp4", title="Comes back")
    world.queue(scene_id)
    world.run("process_queue")
    with world.plex.library.lock:
        item = world.plex.library.items.pop(old_key)  # deleted from Plex (trash emptied) ...
    new_key = world.plex.add_item(world.section, file=item.file, size=item.size, title="fresh agent title",
                                  added_at=item.added_at)  # ... and found again by a scan, addedAt kept
    with Store(world.data_dir) as store:
        store.set_json(FULL_STAMP_KEY, {str(world.section): time.time() - 2 * 86400})
    world.run("sync_all")  # Stash unchanged: only the daily full listing can notice
    assert world.state(scene_id)["rating_key"] == new_key
    assert world.plex.item(new_key).fields["title"] == "Comes back"


def test_index_stamps_written_before_a_clock_step_back_do_not_skip_refreshes(world):
    from worker.index_sync import INDEX_STAMP_KEY, refresh_if_stale

    rt = world.runtime()
    kept = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/kept.mp4", size=1, title="kept")
    gone = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/gone.mp4", size=1, title="gone")
    refresh_index(rt.store, rt.plex, rt.sections)
    with world.plex.library.lock:
        del world.plex.library.items[gone]
    ahead = time.time() + 3600  # written an hour ago by a clock that was then set back an hour
    rt.store.set_json(INDEX_STAMP_KEY, ahead)
    rt.store.set_json(FULL_STAMP_KEY, {str(world.section): ahead})
    assert refresh_if_stale(rt.store, rt.plex, rt.sections) is True  # not skipped for an hour
    assert indexed_keys(rt.store) == {kept}  # and listed in full: the daily listing is not put off either
    assert refresh_if_stale(rt.store, rt.plex, rt.sections) is False  # the new stamp is on the new clock
    rt.close()
