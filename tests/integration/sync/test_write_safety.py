"""The write-safety rule (``worker.sync.write_safety``): a stale index (a move it has not listed yet) costs a
re-match, never another scene's item."""

from __future__ import annotations

from emulators import demo_library as lib
from sync_queue.store import Store


def puts_to(world, key: int) -> int:
    return sum(1 for r in world.plex.requests if r.method == "PUT" and r.param("id") == str(key))


def _linked(world, name: str, title: str) -> tuple[str, int]:
    scene_id, key = world.scene(name, title=title)
    world.queue(scene_id)
    world.run("process_queue")
    assert world.state(scene_id)["rating_key"] == key
    return scene_id, key


def test_a_linked_item_that_no_longer_holds_the_file_is_not_written(world, capfd):
    scene_id, key = _linked(world, "kept.mp4", "First")
    # Plex's item now holds another file (the organiser moved it); the index has not listed it yet: a batch of
    # linked scenes does not refresh the index.
    world.plex.move_file(key, f"{lib.PLEX_ROOT}/elsewhere/other.mp4")
    world.plex.library.scan(world.section, None)
    world.stash.update_scene(scene_id, title="Must not land on the moved item")
    world.queue(scene_id)
    world.plex.reset_requests()
    world.run("process_queue")
    assert puts_to(world, key) == 0 and world.plex.item(key).fields["title"] == "First"
    state = world.state(scene_id)
    assert state["rating_key"] is None and state["lane"] == "waiting_for_plex"
    with Store(world.data_dir) as store:  # the index learned the item as the read showed it
        assert [p.rating_key for p in store.parts_by_path_key(f"{lib.PLEX_ROOT}/elsewhere/other.mp4")] == [key]
        assert store.parts_by_path_key(f"{lib.PLEX_ROOT}/kept.mp4") == []
    info = f"Scene {scene_id}: Plex item {key} holds {lib.PLEX_ROOT}/elsewhere/other.mp4, not this scene's file"
    assert f"\x01i\x02{info}" in capfd.readouterr().err  # an Info line


def test_a_scene_the_stale_index_sends_to_another_scenes_item_reaches_its_own_instead(world):
    """The moved item now holds the second scene's file; the index still says the first scene's. The first
    scene's write is refused, the second scene, waiting for its file, is queued again and lands on the item."""
    first, key = _linked(world, "inbox/clip.mp4", "First clip")
    world.plex.move_file(key, f"{lib.PLEX_ROOT}/sorted/clip.mp4")
    world.plex.library.scan(world.section, None)
    second = world.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/sorted/clip.mp4", "size": 100}],
                                   title="Sorted clip")
    with Store(world.data_dir) as store:
        store.wait_for_index(int(second), [f"{lib.PLEX_ROOT}/sorted/clip.mp4"], ["clip.mp4"])  # as a miss leaves
    world.stash.update_scene(first, title="Not for the moved item")
    world.queue(first)
    world.run("process_queue")
    assert world.plex.item(key).fields["title"] == "Sorted clip"  # the second scene, never the first
    assert world.state(second)["rating_key"] == key and world.state(first)["rating_key"] is None


def test_linked_scenes_edited_in_bulk_cost_one_read_per_batch(world):
    scenes = [world.scene(f"bulk/{n}.mp4", title=f"t{n}") for n in range(60)]
    world.queue(*[scene_id for scene_id, _ in scenes])
    world.run("process_queue")
    for scene_id, _ in scenes:
        world.stash.update_scene(scene_id, title=f"edited {scene_id}")
    world.queue(*[scene_id for scene_id, _ in scenes])
    world.plex.reset_requests()
    world.run("process_queue")
    reads = [r for r in world.plex.requests if r.method == "GET" and r.path.startswith("/library/metadata/")]
    assert len(reads) == 2  # batches of 50 and 10
    assert sorted(int(key) for r in reads for key in r.path.split("/")[3].split(",")) == sorted(k for _, k in scenes)
    assert world.plex.count("PUT") == 60
