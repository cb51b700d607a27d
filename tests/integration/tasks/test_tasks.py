"""The sync tasks end to end in-process: sync_recent watermarks, reconcile drift, health, rebuild_index."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib
from sync_queue.store import Store
from worker.tasks.sync_tasks import TaskFailed


def test_sync_recent_first_run_then_only_newer_edits(world):
    first, key = world.scene("r1.mp4", title="Recent one")
    out = world.run("sync_recent")
    assert out["queued"] == 1 and world.plex.item(key).fields["title"] == "Recent one"
    with Store(world.data_dir) as store:
        mark = store.get_json("sync_recent_watermark")
    assert mark == world.stash.scene(first)["updated_at"]  # copied exactly from Stash's own text
    second, key2 = world.scene("r2.mp4", title="Recent two")
    out = world.run("sync_recent")
    assert out["queued"] == 1  # the first is inside the safety margin but unchanged: not queued again
    assert world.plex.item(key2).fields["title"] == "Recent two"


def test_reconcile_finds_drift_both_ways(world):
    synced, key = world.scene("d1.mp4", title="Stash title")
    missing, _ = world.scene("d2.mp4", title="Never synced", plex=True)
    world.queue(synced)
    world.run("process_queue")
    world.plex.set_field(key, "title", "Changed behind our back")
    out = world.run("reconcile")
    assert out["plex_drift"] == 1 and out["stash_drift"] >= 1
    assert world.plex.item(key).fields["title"] == "Stash title"
    assert world.state(missing)["status"] == "synced"


def test_reconcile_sees_no_drift_in_an_untouched_whole_number_rating(world):
    scene_id, key = world.scene("rated.mp4", title="Rated", rating100=80)
    world.queue(scene_id)
    world.run("process_queue")
    world.plex.reset_requests()
    out = world.run("reconcile")
    assert out["plex_drift"] == 0 and world.plex.writes() == 0  # "8.0" pushed reads back as "8"


def test_reconcile_respects_preserve_plex_edits(world):
    scene_id, key = world.scene("p.mp4", title="Ours")
    world.queue(scene_id)
    world.run("process_queue")
    world.settings(preserve_plex_edits=True)
    world.plex.set_field(key, "title", "Theirs")
    out = world.run("reconcile")
    assert out["plex_drift"] == 0 and world.plex.item(key).fields["title"] == "Theirs"


def test_health_reports_libraries_and_names_a_bad_token(world):
    out = world.run("health")
    assert out["plex"] == "ok" and out["token"] == "accepted"
    assert [lib_["title"] for lib_ in out["libraries"]] == ["Stash"]
    world.settings(plex_token="not-the-token")
    with pytest.raises(TaskFailed, match=r"Plex rejected the token \(401\)"):
        world.run("health")
    assert world.run("status")["paused"]["kind"] == "auth"


def test_health_when_plex_is_down(world):
    world.plex.go_down()
    with pytest.raises(TaskFailed, match="not reachable") as failure:
        world.run("health")
    assert failure.value.output["plex"] == "unreachable"


def test_rebuild_index_forgets_links_and_relists(world):
    scene_id, key = world.scene("i.mp4", title="Indexed")
    world.queue(scene_id)
    world.run("process_queue")
    out = world.run("rebuild_index")
    assert out["forgotten_links"] == 1 and out["indexed_files"] == 1 and out["libraries"] == ["Stash"]
    assert world.state(scene_id)["rating_key"] is None
    world.plex.reset_requests()
    out = world.run("sync_all")
    assert out["queued"] == 1 and world.state(scene_id)["rating_key"] == key
    assert world.plex.writes() == 0  # re-matched and found nothing to change


def test_disabled_plugin_does_nothing(world):
    scene_id, _ = world.scene("off.mp4")
    world.queue(scene_id)
    world.settings(sync_paused=True)
    out = world.run("process_queue")
    assert out["processed"] == 0 and out["remaining"] == 1


def test_queue_tasks_report_counts(world):
    a, _ = world.scene("q1.mp4", plex=False)
    b, _ = world.scene("q2.mp4", plex=False)
    world.queue(a, b)
    assert world.run("status")["pending"] == 2
    assert world.run("clear_queue") == {"cleared": 2}
    assert world.run("clear_dlq") == {"cleared": 0}
    assert world.run("purge_dlq", days="30") == {"purged": 0, "older_than_days": 30.0}
    with pytest.raises(ValueError, match="days"):
        world.run("purge_dlq", days="soon")
    with pytest.raises(ValueError, match="Unknown task mode"):
        world.run("explode")


def test_settings_errors_name_the_setting(world):
    world.stash.set_plugin_settings("PlexSync", {"plex_url": lib.PLEX_ROOT, "plex_token": "t", "max_tags": "many"})
    with pytest.raises(ValueError, match="Plex URL") as failure:
        world.run("process_queue")
    assert "PLEXSYNC_MAX_TAGS (max_tags in tunables.conf)" in str(failure.value)


def test_process_queue_reports_progress_and_eta(world, monkeypatch):
    import io

    from tests.integration.conftest import REPO
    from validation import stash_log
    from worker.tasks.handlers import TaskContext, run_task

    scene_ids = [world.scene(f"e{n}.mp4", title=f"E{n}")[0] for n in range(3)]
    world.queue(*scene_ids)
    seen: list[float] = []
    stream = io.StringIO()
    monkeypatch.setattr("worker.process.runtime.apply_logging", lambda config, plain_file=None: stash_log.configure(stream=stream))
    ctx = TaskContext(data_dir=world.data_dir, plugin_dir=REPO, entry_script=REPO / "PlexSync.py",
                      server_connection=world.stash.server_connection(str(world.data_dir), str(REPO)),
                      progress=seen.append)
    out = run_task("process_queue", ctx)
    assert out["processed"] == 3 and seen[-1] == 1.0 and all(0 <= p <= 1 for p in seen)
    assert "Processed 3/3 scenes (100%), ETA 0m00s" in stream.getvalue()


def test_health_says_when_no_sampled_stash_path_maps_into_a_library(world):
    world.scene("a.mp4")
    world.settings(path_map="")
    out = world.run("health")
    check = out["path_map"]
    assert check["sampled"] == 1 and check["mapped_into_library"] == 0
    assert check["problems"] == [
        f"none of 1 sampled Stash paths maps into a Plex library folder: {lib.STASH_ROOT}/a.mp4 → "
        f"{lib.STASH_ROOT}/a.mp4; Plex's folders: {lib.PLEX_ROOT}. Add a rule such as "
        f"{lib.STASH_ROOT}={lib.PLEX_ROOT} to Path map"]


def test_health_suggests_a_rule_from_the_common_folder_names(world):
    movies = world.plex.add_section(title="Movies", locations=["/mnt/plex/movies"], type="movie")
    assert movies
    world.stash.add_scene(files=[{"path": "/srv/stash/library/movies/b.mp4", "size": 5}])
    world.settings(path_map="")
    out = world.run("health")
    assert out["path_map"]["suggestion"] == "/srv/stash/library=/mnt/plex"


def test_health_names_a_rule_that_points_the_wrong_way(world):
    world.scene("c.mp4")
    world.settings(path_map=f"{lib.PLEX_ROOT}={lib.STASH_ROOT}")
    problems = world.run("health")["path_map"]["problems"]
    assert problems[-1] == (f"Path map rule {lib.PLEX_ROOT}={lib.STASH_ROOT} points the wrong way: its left side "
                            f"is a Plex folder and its right side a Stash prefix; write Stash prefix=Plex prefix: "
                            f"{lib.STASH_ROOT}={lib.PLEX_ROOT}")
    assert problems[0].startswith("none of 1 sampled Stash paths")


def test_health_is_quiet_about_a_path_map_that_works(world):
    world.scene("d.mp4")
    check = world.run("health")["path_map"]
    assert check == {"sampled": 1, "mapped_into_library": 1, "problems": [], "suggestion": None}
