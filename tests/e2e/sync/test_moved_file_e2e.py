"""The index as users meet it, through the plugin as Stash runs it (hooks, the detached worker, tasks):

- the moved-file story: the organiser renames a file after Plex indexed it, Plex keeps the item with the new path,
  and a new download lands at the old path and is scanned by Stash first. The scene at the new path reaches the
  moved item; the new scene at the old path is never written onto it, and reaches its own item once Plex has one;
- a two-part item (cd1/cd2) whose files fall on both sides of a write chunk keeps both files.
"""

from __future__ import annotations

import time

import pytest

from emulators import demo_library as lib
from sync_queue.store import Store
from worker.sync.index_refresh import WRITE_CHUNK

pytestmark = pytest.mark.e2e

OLD, NEW = "inbox/clip.mp4", "sorted/clip.mp4"


def state(harness, scene_id: str) -> dict:
    with Store(harness.data_dir) as store:
        return store.scene_state(int(scene_id)) or {}


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def titles_written(plex, rating_key: int) -> list[str]:
    return [r.param("title.value") for r in list(plex.requests)
            if r.method == "PUT" and r.param("id") == str(rating_key) and r.param("title.value") is not None]


def hook(harness, trigger: str, scene_id: str) -> None:
    result = harness.runner.run_hook(trigger, int(scene_id), input=None)
    assert result.error is None, result.error


def synced(harness, scene_id: str, generation: int) -> None:
    """Until the detached worker has finished the scene's ``generation``-th change (read from the store)."""
    wait_for(lambda: state(harness, scene_id).get("done_generation", 0) >= generation
             and state(harness, scene_id).get("status") == "synced")


def test_a_renamed_file_and_a_new_download_at_its_old_path(harness):
    """The hooks come within seconds of the last pass, so the worker matches against an index that has not
    listed the rename yet: the batch's read of the item, before any write, finds it instead. The next task's
    pass lists what Plex scanned meanwhile."""
    section = harness.plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
    item = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/{OLD}", size=7, title="clip")
    first = harness.stash.add_scene(title="Clip", files=[{"path": f"{lib.STASH_ROOT}/{OLD}", "size": 7}])
    hook(harness, "Scene.Create.Post", first)
    synced(harness, first, 1)
    harness.stash.update_scene(first, title="Clip v2")  # a second push: the item moves in updatedAt order
    hook(harness, "Scene.Update.Post", first)
    synced(harness, first, 2)
    assert state(harness, first)["rating_key"] == item and harness.plex.item(item).fields["title"] == "Clip v2"

    harness.plex.move_file(item, f"{lib.PLEX_ROOT}/{NEW}")  # the organiser renames it; Plex keeps the item
    harness.plex.library.scan(section, None)
    harness.stash.update_scene(first, title="Clip, sorted", files=[{"path": f"{lib.STASH_ROOT}/{NEW}", "size": 7}])
    download = harness.stash.add_scene(title="A different scene",
                                       files=[{"path": f"{lib.STASH_ROOT}/{OLD}", "size": 9}])
    hook(harness, "Scene.Create.Post", download)  # Stash scans the new download first
    hook(harness, "Scene.Update.Post", first)
    wait_for(lambda: harness.plex.item(item).fields["title"] == "Clip, sorted"
             and state(harness, download).get("lane") == "waiting_for_plex")
    assert state(harness, first)["rating_key"] == item
    assert "A different scene" not in titles_written(harness.plex, item)
    assert state(harness, download)["rating_key"] is None

    harness.plex.add_pending_file(section, f"{lib.PLEX_ROOT}/{OLD}", size=9)  # Plex scans the download too
    harness.plex.library.scan(section, None)
    result = harness.task("Process Queue")  # lists it; the scene waiting for that path is queued again
    assert result.error is None, result.error
    own = state(harness, download)["rating_key"]
    assert own not in (None, item) and harness.plex.item(own).fields["title"] == "A different scene"
    assert harness.plex.item(item).fields["title"] == "Clip, sorted"


def test_a_two_part_item_across_a_write_chunk_keeps_both_files(harness):
    section = harness.plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
    for n in range(WRITE_CHUNK - 1):  # rows 1 … 999 of the listing
        harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/filler/{n:04d}.mp4", size=n, title=f"f{n}")
    two_part = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/film/cd1.mp4", size=11, title="film")
    harness.plex.library.add_part(two_part, f"{lib.PLEX_ROOT}/film/cd2.mp4", 12)  # rows 1,000 and 1,001
    scene = harness.stash.add_scene(title="The film", files=[{"path": f"{lib.STASH_ROOT}/film/cd1.mp4", "size": 11}])
    result = harness.task("Sync All Scenes")  # the library's first listing: in full
    assert result.error is None, result.error
    with Store(harness.data_dir) as store:
        assert {part.file for name in ("cd1.mp4", "cd2.mp4") for part in store.parts_by_basename_key(name)} == {
            f"{lib.PLEX_ROOT}/film/cd1.mp4", f"{lib.PLEX_ROOT}/film/cd2.mp4"}
    assert state(harness, scene)["rating_key"] == two_part
    assert harness.plex.item(two_part).fields["title"] == "The film"
