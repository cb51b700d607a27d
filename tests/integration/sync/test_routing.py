"""Every failure is routed once, correctly: slow lane, skip, dead letter, re-match, pause, outage."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib
from worker.tasks.sync_tasks import TaskFailed


def test_not_in_plex_goes_to_the_slow_lane_and_asks_for_a_scan(world):
    world.settings(with_extras="scan new files")
    scene_id, _ = world.scene("later/new.mp4", plex=False, title="Late")
    world.plex.add_pending_file(world.section, f"{lib.PLEX_ROOT}/later/new.mp4", 100)
    world.queue(scene_id)
    out = world.run("process_queue")
    assert out["waiting_for_plex"] == 1 and out["remaining"] == 1
    state = world.state(scene_id)
    assert state["lane"] == "waiting_for_plex" and state["last_error_class"] == "ItemNotInPlex"
    waiting = world.run("status")["needs_attention"]
    assert [(e["scene_id"], e["state"], e["reason_class"]) for e in waiting] == \
        [(int(scene_id), "waiting_for_plex", "ItemNotInPlex")]
    assert world.plex.scan_requests == [(world.section, f"{lib.PLEX_ROOT}/later")]
    world.run("process_queue")  # Plex scanned the folder: the index refresh finds it
    assert world.state(scene_id)["status"] == "synced"
    assert world.run("status")["dead"] == 0


def test_many_new_files_in_one_folder_ask_plex_for_one_scan(world):
    world.settings(with_extras="scan new files")
    scene_ids = [world.scene(f"batch/new{n}.mp4", plex=False)[0] for n in range(5)]
    world.queue(*scene_ids)
    out = world.run("process_queue")
    assert out["waiting_for_plex"] == 5
    assert world.plex.scan_requests == [(world.section, f"{lib.PLEX_ROOT}/batch")]


def test_skip_not_found_skips_instead_of_retrying(world):
    world.settings(skip_not_found=True)
    scene_id, _ = world.scene("nowhere.mp4", plex=False)
    world.queue(scene_id)
    out = world.run("process_queue")
    assert out["skipped"] == 1 and out["remaining"] == 0
    assert world.state(scene_id)["status"] == "skipped"


def test_ambiguous_basename_is_skipped_with_candidates_named(world):
    one = world.plex.add_item(world.section, file="/elsewhere/a/clip.mp4", size=5, title="clip")
    two = world.plex.add_item(world.section, file="/elsewhere/b/clip.mp4", size=5, title="clip")
    scene_id = world.stash.add_scene(title="Which?", files=[{"path": "/data/other/clip.mp4", "size": 5}])
    world.queue(scene_id)
    out = world.run("process_queue")
    assert out["skipped"] == 1
    state = world.state(scene_id)
    assert state["last_error_class"] == "AmbiguousMatch"
    assert str(one) in state["last_error"] and str(two) in state["last_error"]
    status = world.run("status")
    assert status["circuit"] == "closed"  # never an outage
    shown = {entry["scene_id"]: entry for entry in status["needs_attention"]}  # visible from Stash's task log
    assert shown[int(scene_id)]["state"] == "skipped" and str(one) in shown[int(scene_id)]["reason"]


def test_unique_basename_and_size_matches_when_paths_differ(world):
    key = world.plex.add_item(world.section, file="/totally/else/unique.mp4", size=77, title="u")
    scene_id = world.stash.add_scene(title="Found by name", files=[{"path": "/data/x/unique.mp4", "size": 77}])
    world.queue(scene_id)
    world.run("process_queue")
    assert world.plex.item(key).fields["title"] == "Found by name"
    assert world.state(scene_id)["match_method"] == "basename_size"


def test_a_name_and_size_guess_never_takes_an_item_another_scene_owns(world):
    key = world.plex.add_item(world.section, file="/elsewhere/a/dupe.mp4", size=9, title="dupe")
    owner = world.stash.add_scene(title="Owner", files=[{"path": "/data/one/dupe.mp4", "size": 9}])
    copy = world.stash.add_scene(title="Copy", files=[{"path": "/data/two/dupe.mp4", "size": 9}])
    world.queue(owner)
    world.run("process_queue")
    world.queue(copy)
    out = world.run("process_queue")
    assert out["skipped"] == 1 and world.plex.item(key).fields["title"] == "Owner"
    state = world.state(copy)
    assert state["last_error_class"] == "AmbiguousMatch" and f"scene {owner}" in state["last_error"]


def test_plex_rejecting_an_edit_dead_letters_after_max_retries(world):
    world.settings(max_retries=2, skip_fields="poster, background")
    scene_id, _ = world.scene("bad.mp4", title="Rejected")
    world.plex.fail(r"^/library/sections/\d+/all$", 400, times=None, method="PUT")
    world.queue(scene_id)
    first = world.run("process_queue")
    assert first["failed"] == 1 and world.run("status")["dead"] == 0
    world.run("process_queue")  # the second attempt (here, or in the worker the first run handed it to)
    letters = world.run("status")["dead_letters"]
    assert [(d["scene_id"], d["error_class"]) for d in letters] == [(int(scene_id), "PlexRejected")]
    world.plex.clear_faults()
    assert world.run("retry_dlq") == {"requeued": 1}
    world.run("process_queue")
    assert world.state(scene_id)["status"] == "synced" and world.run("status")["dead"] == 0


def test_deleted_plex_item_is_rematched(world):
    world.settings(skip_fields="poster, background")
    scene_id, key = world.scene("moved.mp4", title="Keeps syncing")
    world.queue(scene_id)
    world.run("process_queue")
    with world.plex.library.lock:  # Plex re-adds the file under a new ratingKey
        del world.plex.library.items[key]
    new_key = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/moved.mp4", size=100, title="moved")
    world.stash.update_scene(scene_id, title="After the re-add")
    world.queue(scene_id)
    world.run("process_queue")
    assert world.plex.item(new_key).fields["title"] == "After the re-add"
    assert world.state(scene_id)["rating_key"] == new_key


def test_preserve_plex_edits_leaves_a_field_changed_in_plex(world):
    world.settings(preserve_plex_edits=True, skip_fields="poster, background")
    scene_id, key = world.scene("mine.mp4", title="From Stash", details="Stash summary")
    world.queue(scene_id)
    world.run("process_queue")
    world.plex.set_field(key, "title", "Hand-edited in Plex")
    world.stash.update_scene(scene_id, details="New Stash summary", title="Stash again")
    world.queue(scene_id)
    world.run("process_queue")
    item = world.plex.item(key)
    assert item.fields["title"] == "Hand-edited in Plex"
    assert item.fields["summary"] == "New Stash summary"


def test_outage_opens_the_circuit_without_dead_letters(world):
    scene_ids = [world.scene(f"o{n}.mp4", title=f"O{n}")[0] for n in range(8)]
    world.run("process_queue")
    world.queue(*scene_ids)
    world.stash.update_scene(scene_ids[0], title="changed")
    for scene_id in scene_ids:
        world.stash.update_scene(scene_id, title=f"Changed {scene_id}")
    world.plex.fail(r"^/library/sections/\d+/all$", 503, times=None, method="PUT")
    out = world.run("process_queue")
    assert out["stopped"] == "outage" and world.run("status")["circuit"] == "open"
    assert world.run("status")["dead"] == 0
    world.plex.clear_faults()
    out = world.run("process_queue")  # "try now": the probe answers, the circuit closes
    assert out["remaining"] == 0 and world.run("status")["circuit"] == "closed"


def test_missing_library_pauses_with_its_name(world):
    world.settings(plex_library="Nope, Stash")
    scene_id, _ = world.scene("lib.mp4")
    world.queue(scene_id)
    with pytest.raises(TaskFailed, match="Nope"):
        world.run("process_queue")
    status = world.run("status")
    assert status["paused"]["kind"] == "config" and status["pending"] == 1 and status["dead"] == 0


def test_deleted_stash_scene_is_skipped_not_failed(world):
    scene_id, _ = world.scene("gone.mp4")
    world.queue(scene_id)
    world.stash.delete_scene(scene_id)
    out = world.run("process_queue")
    assert out["skipped"] == 1 and world.state(scene_id)["last_error_class"] == "SceneGone"


def test_stash_failing_a_cover_download_defers_without_counting_an_attempt(world, monkeypatch):
    from worker.stash import reader as stash_reader

    def unavailable(self, url):
        raise stash_reader.StashUnavailable("Stash answered 503 for an image")

    scene_id, _ = world.scene("cover.mp4", title="Needs a cover")
    world.queue(scene_id)
    monkeypatch.setattr(stash_reader.StashReader, "download_image", unavailable)
    out = world.run("process_queue")
    state = world.state(scene_id)
    assert out["waiting_for_plex"] == 1 and state["attempts"] == 0 and state["last_error_class"] == "StashUnavailable"
    assert world.run("status")["dead"] == 0


def test_a_cover_too_large_for_plex_is_left_out_and_the_fields_still_sync(world, monkeypatch):
    from worker.stash import reader as stash_reader

    monkeypatch.setattr(stash_reader, "IMAGE_LIMIT_BYTES", 64)  # stands in for Plex's ~10 MB upload limit
    scene_id, rating_key = world.scene("huge-cover.mp4", title="Fields without a cover", screenshot=b"x" * 65)
    world.queue(scene_id)
    out = world.run("process_queue")
    assert out["succeeded"] == 1 and out["failed"] == 0
    item = world.plex.item(rating_key)
    assert item.fields["title"] == "Fields without a cover"
    assert item.posters == [] and item.arts == []
    assert world.state(scene_id)["status"] == "synced" and world.run("status")["dead"] == 0


def test_how_a_link_was_made_is_kept_through_unchanged_and_later_pushes(world):
    key = world.plex.add_item(world.section, file="/totally/else/kept.mp4", size=78, title="k")
    scene_id = world.stash.add_scene(title="Risky match", files=[{"path": "/data/x/kept.mp4", "size": 78}])
    linked, _ = world.scene("sure.mp4", title="Path match")
    world.queue(scene_id, linked)
    world.run("process_queue")
    expected = {"basename_size": 1, "path": 1}
    assert world.run("status")["match_methods"] == expected
    world.queue(scene_id, linked)
    assert world.run("process_queue")["unchanged"] == 2  # re-synced over the link, nothing to write
    assert world.run("status")["match_methods"] == expected
    world.stash.update_scene(scene_id, title="Edited later")
    world.queue(scene_id)
    world.run("process_queue")  # pushed over the stored link
    assert world.plex.item(key).fields["title"] == "Edited later"
    assert world.run("status")["match_methods"] == expected
    assert world.state(scene_id)["match_method"] == "basename_size"
