"""Stash misbehaving while PlexSync reads from it: each fault defers the work without spending the scene's
attempts, says what happened, and loses nothing (in-process tasks against both emulators)."""

from __future__ import annotations

from sync_queue.store import Store


def test_a_moment_of_database_is_locked_is_asked_again_and_the_scene_syncs(world):
    scene_id, key = world.scene("locked.mp4", title="Locked for a moment")
    world.queue(scene_id)
    world.stash.fail_graphql("database is locked", times=2)
    out = world.run("process_queue")
    assert out["succeeded"] == 1 and world.plex.item(key).fields["title"] == "Locked for a moment"


def test_a_stash_locked_for_long_says_so_spends_no_attempt_and_loses_nothing(world):
    import pytest

    from worker.stash.reader import StashUnavailable

    scene_id, key = world.scene("locked.mp4", title="Locked for long")
    world.queue(scene_id)
    world.stash.fail_graphql("database is locked", times=50)
    with pytest.raises(StashUnavailable, match="database is locked"):
        world.run("process_queue")
    state = world.state(scene_id)
    assert state["attempts"] == 0 and state["generation"] > state["done_generation"], state
    world.stash.clear_faults()
    assert world.run("process_queue")["succeeded"] == 1
    assert world.plex.item(key).fields["title"] == "Locked for long"


def test_a_422_from_a_stash_that_rejects_our_query_is_named_and_loses_nothing(world):
    scene_id, _ = world.scene("old.mp4", title="Old Stash")
    world.queue(scene_id)
    world.stash.fail_graphql('Cannot query field "code" on type "Scene".', times=1, status=422,
                             matching="findScenes")
    world.run("process_queue")
    state = world.state(scene_id)
    assert state["generation"] > state["done_generation"] and state["attempts"] == 0, state
    assert "422" in state["last_error"] and 'Cannot query field "code"' in state["last_error"]
    with Store(world.data_dir) as store:
        assert store.dead_letters() == []


def test_a_scene_deleted_in_stash_before_its_sync_is_skipped_with_its_reason(world):
    scene_id, key = world.scene("deleted.mp4", title="Soon gone")
    world.queue(scene_id)
    world.stash.delete_scene(scene_id)
    out = world.run("process_queue")
    assert out["failed"] == 0 and world.state(scene_id)["last_error_class"] == "SceneGone"
    assert world.plex.item(key).fields["title"] == "deleted.mp4"  # nothing was written for a scene that is gone
