"""The path index stays true: a future-dated item hides no new ones, a daily full listing drops deleted items, a
listing changed while read passes nothing over, and a moved or re-added file is found by the next pass."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from emulators import demo_library as lib
from sync_queue.store import Store
from worker.sync.index_refresh import SWEEPS_KEY, refresh_index


def indexed_keys(store: Store) -> set[int]:
    return {row[0] for row in store.conn.execute("SELECT rating_key FROM plex_index")}


def full_listing_due(store: Store, section: int, full_at_s: float | None = None) -> None:
    """The library's last full listing was two days ago (or at ``full_at_s``)."""
    sweeps = store.get_json(SWEEPS_KEY, {})
    sweeps[str(section)]["full_at_s"] = time.time() - 2 * 86400 if full_at_s is None else full_at_s
    store.set_json(SWEEPS_KEY, sweeps)


def test_an_item_dated_in_the_future_does_not_hide_later_additions(world):
    rt = world.runtime()
    ahead = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/ahead.mp4", size=1, title="ahead",
                                added_stamp=int(time.time()) + 30 * 86400)  # a NAS file date, or an edited addedAt
    with world.plex.library.lock:
        world.plex.item(ahead).updated_stamp = int(time.time()) + 30 * 86400  # stamped by a clock set wrong
    refresh_index(rt.store, rt.plex, rt.sections)
    later = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/later.mp4", size=2, title="later",
                                added_stamp=int(time.time()))
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
    full_listing_due(rt.store, world.section)
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
                                  added_stamp=item.added_stamp)  # ... and found again by a scan, addedAt kept
    world.run("sync_all")  # Stash unchanged: the incremental pass sees the new item take the file
    assert world.state(scene_id)["rating_key"] == new_key
    assert world.plex.item(new_key).fields["title"] == "Comes back"


class ChangedDuringListing:
    """The real PlexClient, with Plex changing (a user renaming, a scan deleting) right after a listing's first
    page."""

    def __init__(self, client, change: Callable[[], None]) -> None:
        self.client, self.change = client, change

    def query(self, key: str, method: str = "get", **kwargs):
        answer = self.client.query(key, method, **kwargs)
        if "/all?" in key and self.change is not None:
            self.change, change = None, self.change
            change()
        return answer


def _library_past_one_page(world, *linked: int) -> tuple[list[int], dict[int, str]]:
    """2,003 Plex items titled t0000…t2002 (a listing page holds 2,000) and, for the items numbered in
    ``linked``, a scene synced to it."""
    keys = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/t{n:04d}.mp4", size=n, title=f"t{n:04d}")
            for n in range(2003)]
    scenes = {n: world.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/t{n:04d}.mp4", "size": n}],
                                       title=f"t{n:04d}") for n in linked}
    world.queue(*scenes.values())
    world.run("process_queue")
    assert all(world.state(scenes[n])["rating_key"] == keys[n] for n in linked)
    return keys, scenes


def test_a_title_written_during_a_full_listing_loses_no_item(world):
    """In updatedAt order the renamed item moves to the end: the listing reads it there again."""
    keys, scenes = _library_past_one_page(world, 2001)
    rt = world.runtime()
    renaming = ChangedDuringListing(rt.plex, lambda: world.plex.set_field(keys[0], "title", "zzz"))
    refresh_index(rt.store, renaming, rt.sections, full=True)  # by title, t2001 would slip past the page boundary
    assert indexed_keys(rt.store) == set(keys)
    rt.close()
    assert world.state(scenes[2001])["rating_key"] == keys[2001]


def test_an_item_deleted_during_a_full_listing_is_forgotten_and_nothing_else(world):
    """The deletion shifts every later item back one place: the sweep notices the next page's first place was
    not read yet and asks again by key, so the one item it forgets is the deleted one."""
    keys, scenes = _library_past_one_page(world, 0, 2001)

    def delete() -> None:
        with world.plex.library.lock:
            del world.plex.library.items[keys[0]]

    rt = world.runtime()
    refresh_index(rt.store, ChangedDuringListing(rt.plex, delete), rt.sections, full=True)
    rt.close()
    assert indexed_keys(Store(world.data_dir)) == set(keys[1:])
    assert [world.state(scenes[n])["rating_key"] for n in (0, 2001)] == [None, keys[2001]]


def test_an_unsorted_listing_would_have_missed_an_item(world):
    """The emulator orders an unsorted listing by title like PMS, so paging without a sort really does skip."""
    keys = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/{t}.mp4", size=1, title=t) for t in "ABCDEF"]
    rt = world.runtime()
    page = {"X-Plex-Container-Start": "0", "X-Plex-Container-Size": "2"}
    first = rt.plex.query(f"/library/sections/{world.section}/all?type=1", headers=page)
    world.plex.set_field(keys[0], "title", "Z")
    second = rt.plex.query(f"/library/sections/{world.section}/all?type=1",
                           headers={**page, "X-Plex-Container-Start": "2"})
    rt.close()
    assert [video.attrib["title"] for video in [*first, *second]] == ["A", "B", "D", "E"]  # "C" slipped past


def test_a_moved_file_is_matched_by_the_next_incremental_refresh(world):
    first_scene, _ = world.scene("first.mp4", title="First")
    world.queue(first_scene)
    world.run("process_queue")  # the library is indexed in full, the soon-moved file at its old path
    old_key = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/inbox/clip.mp4", size=7, title="clip")
    world.run("process_queue")
    world.plex.move_file(old_key, f"{lib.PLEX_ROOT}/sorted/clip.mp4")  # same item, same addedAt
    world.plex.library.scan(world.section, None)
    scene_id = world.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/sorted/clip.mp4", "size": 7}],
                                     title="Moved clip")
    world.queue(scene_id)
    world.run("process_queue")
    assert world.state(scene_id)["rating_key"] == old_key
    assert world.plex.item(old_key).fields["title"] == "Moved clip"
    with Store(world.data_dir) as store:
        assert [row.rating_key for row in store.parts_by_path_key(f"{lib.PLEX_ROOT}/inbox/clip.mp4")] == []


def _synced_a_while_ago(world, name: str) -> tuple[str, int]:
    """A scene synced to its Plex item by an earlier run."""
    scene_id, key = world.scene(name, title="First title")
    world.queue(scene_id)
    world.run("process_queue")
    return scene_id, key


def _edit_title_and_sync(world, scene_id: str, title: str) -> None:
    world.stash.update_scene(scene_id, title=title)
    world.queue(scene_id)
    world.run("process_queue")


@pytest.mark.parametrize("answer", ["not_found", "ignored"])
def test_an_edit_reaches_the_item_that_replaced_a_deleted_one_whatever_plex_answers(world, answer):
    """Plex re-added the scene's file under a new ratingKey; a PUT to the old one may answer 404, or 200 and
    change nothing. Either way the edit lands on the new item."""
    world.plex.missing_item_edits = answer
    scene_id, old_key = _synced_a_while_ago(world, "replaced.mp4")
    with world.plex.library.lock:
        item = world.plex.library.items.pop(old_key)  # deleted (trash emptied) and found again by a scan
    new_key = world.plex.add_item(world.section, file=item.file, size=item.size, title="agent title")
    _edit_title_and_sync(world, scene_id, "Second title")
    assert (world.plex.item(new_key).fields["title"], world.state(scene_id)["rating_key"]) == ("Second title",
                                                                                               new_key)


def test_an_edit_to_an_item_plex_still_has_costs_one_checking_get(world):
    """The write-safety rule: the item is read before the write (it still holds the scene's file)."""
    scene_id, key = _synced_a_while_ago(world, "kept.mp4")
    world.plex.reset_requests()
    _edit_title_and_sync(world, scene_id, "Second title")
    assert world.plex.item(key).fields["title"] == "Second title"
    assert (world.plex.count("GET", f"/library/metadata/{key}"), world.plex.count("PUT")) == (1, 1)


def test_an_incremental_listing_changed_while_read_passes_nothing_over(world, monkeypatch):
    monkeypatch.setattr("plex.library_index.PAGE_SIZE", 2)
    rt = world.runtime()
    first = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/first.mp4", size=1, title="first",
                                added_stamp=int(time.time()) - 3600)
    refresh_index(rt.store, rt.plex, rt.sections)  # listed in full
    keys = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/{n}.mp4", size=n, title=f"n{n}")
            for n in range(5)]
    refresh_index(rt.store, ChangedDuringListing(rt.plex, lambda: world.plex.set_field(keys[0], "title", "x")),
                  rt.sections)  # incremental; the first page's first item moves to the end meanwhile
    assert indexed_keys(rt.store) == {first, *keys}


def test_index_stamps_written_before_a_clock_step_back_do_not_skip_refreshes(world):
    from worker.sync.index_refresh import INDEX_REFRESHED_KEY, refresh_if_stale

    rt = world.runtime()
    kept = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/kept.mp4", size=1, title="kept")
    gone = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/gone.mp4", size=1, title="gone")
    refresh_index(rt.store, rt.plex, rt.sections)
    with world.plex.library.lock:
        del world.plex.library.items[gone]
    ahead = time.time() + 3600  # written an hour ago by a clock that was then set back an hour
    rt.store.set_json(INDEX_REFRESHED_KEY, ahead)
    full_listing_due(rt.store, world.section, full_at_s=ahead)
    assert refresh_if_stale(rt.store, rt.plex, rt.sections) is True  # not skipped for an hour
    assert indexed_keys(rt.store) == {kept}  # and listed in full: the daily listing is not put off either
    assert refresh_if_stale(rt.store, rt.plex, rt.sections) is False  # the new stamp is on the new clock
    rt.close()
