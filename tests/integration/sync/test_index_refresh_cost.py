"""What a periodic index refresh costs, counted at the Plex emulator: pages for what is new, not for what a bulk
import stamped with one second (``addedAt`` and ``updatedAt`` shared by thousands of items)."""

from __future__ import annotations

import time

from emulators import demo_library as lib
from worker.sync.index_refresh import refresh_index

BULK = 5000


def _bulk_import(world, stamp: int) -> list[int]:
    """BULK items a scan found an hour ago in one go: one addedAt, one updatedAt, for all of them."""
    keys = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/bulk/{n:05d}.mp4", size=n, title=f"b{n}",
                                added_stamp=stamp) for n in range(BULK)]
    with world.plex.library.lock:
        for key in keys:
            world.plex.library.items[key].updated_stamp = stamp
    return keys


def _listings(world) -> int:
    return world.plex.count("GET", f"/library/sections/{world.section}/all")


def indexed_keys(store) -> set[int]:
    return {row[0] for row in store.conn.execute("SELECT rating_key FROM plex_index")}


def test_a_refresh_after_a_bulk_import_lists_only_pages_with_new_items(world):
    stamp = int(time.time()) - 3600
    bulk = _bulk_import(world, stamp)
    rt = world.runtime()
    refresh_index(rt.store, rt.plex, rt.sections)  # the first, full listing
    refresh_index(rt.store, rt.plex, rt.sections)  # an incremental pass with nothing new
    same_second = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/late/{n}.mp4", size=n, title=f"l{n}",
                                       added_stamp=stamp) for n in range(5)]  # the same import, a moment later
    fresh = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/new/{n}.mp4", size=n, title=f"n{n}")
             for n in range(5)]
    world.plex.reset_requests()
    refresh_index(rt.store, rt.plex, rt.sections)
    # One page: the sweep starts after the import's second (settled long ago); listing the 5,000 items that
    # share it again would take three pages.
    assert _listings(world) == 1
    assert indexed_keys(rt.store) == {*bulk, *same_second, *fresh}
    world.plex.reset_requests()
    refresh_index(rt.store, rt.plex, rt.sections)  # nothing new: still one page, never the library
    assert _listings(world) == 1
    rt.close()


def test_a_file_moved_after_a_bulk_import_is_found_by_the_next_pass(world):
    stamp = int(time.time()) - 3600
    bulk = _bulk_import(world, stamp)
    rt = world.runtime()
    refresh_index(rt.store, rt.plex, rt.sections)
    refresh_index(rt.store, rt.plex, rt.sections)
    world.plex.move_file(bulk[10], f"{lib.PLEX_ROOT}/sorted/moved.mp4")  # an item before where the pass ended
    world.plex.library.scan(world.section, None)
    world.plex.reset_requests()
    refresh_index(rt.store, rt.plex, rt.sections)
    assert [part.rating_key for part in rt.store.parts_by_path_key(f"{lib.PLEX_ROOT}/sorted/moved.mp4")] == [bulk[10]]
    assert rt.store.parts_by_path_key(f"{lib.PLEX_ROOT}/bulk/00010.mp4") == []
    # A move stamps the item with Plex's present: one page lists it.
    assert _listings(world) == 1
    rt.close()
