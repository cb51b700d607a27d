"""Sync figures in the store equal what happened: per run and since install, by outcome, error class and
how each link was made (sync_queue.stats)."""

from __future__ import annotations

from sync_queue.store import Store


def test_stats_equal_the_outcomes_of_two_runs(world):
    world.settings(max_retries=1, skip_fields="poster, background", skip_not_found=True)
    by_path = [world.scene(f"p{i}.mp4", title=f"P{i}")[0] for i in range(3)]
    world.plex.add_item(world.section, file="/totally/else/n.mp4", size=77, title="n")
    by_name = world.stash.add_scene(title="By name", files=[{"path": "/data/x/n.mp4", "size": 77}])
    world.plex.add_item(world.section, file="/elsewhere/a/clip.mp4", size=5, title="clip")
    world.plex.add_item(world.section, file="/elsewhere/b/clip.mp4", size=5, title="clip")
    ambiguous = world.stash.add_scene(title="Which?", files=[{"path": "/data/other/clip.mp4", "size": 5}])
    missing, _ = world.scene("nowhere.mp4", plex=False)
    world.queue(*by_path, by_name, ambiguous, missing)
    first = world.run("process_queue")["run_stats"]
    assert first["synced"] == 4 and first["unchanged"] == 0 and first["failed"] == {}
    assert first["skipped"] == {"AmbiguousMatch": 1, "ItemNotInPlex": 1}
    assert first["methods"] == {"path": 3, "basename_size": 1, "ambiguous": 1, "not_found": 1}
    assert first["scenes_timed"] == 6 and first["avg_seconds"] > 0 and first["p90_seconds"] > 0

    rejected, _ = world.scene("bad.mp4", title="Rejected")
    world.plex.fail(r"^/library/sections/\d+/all$", 400, times=None, method="PUT")
    world.queue(*by_path, rejected)
    second = world.run("process_queue")["run_stats"]
    assert (second["synced"], second["unchanged"]) == (0, 3)
    assert second["failed"] == {"PlexRejected": 1} and second["dead_lettered"] == {"PlexRejected": 1}
    assert second["methods"] == {"path": 0, "basename_size": 0, "ambiguous": 0, "not_found": 0}
    assert second["scenes_timed"] == 4

    stats = world.run("status")["stats"]
    assert stats["last_run"] == second
    total = stats["since_install"]
    assert (total["synced"], total["unchanged"], total["scenes_timed"]) == (4, 3, 10)
    assert total["failed"] == {"PlexRejected": 1} and total["dead_lettered"] == {"PlexRejected": 1}
    assert total["skipped"] == {"AmbiguousMatch": 1, "ItemNotInPlex": 1}
    assert total["methods"] == {"path": 3, "basename_size": 1, "ambiguous": 1, "not_found": 1}


def test_only_the_newest_runs_are_kept_while_since_install_keeps_every_figure(tmp_path):
    from sync_queue import stats

    with Store(tmp_path) as store:
        for run in range(stats.RUNS_KEPT + 5):
            with store.transaction() as conn:
                stats.count(conn, f"run{run}", ["synced"])
            store.record_scene_seconds(f"run{run}", 0.5, 1)
        assert store.last_run_scope() == f"run{stats.RUNS_KEPT + 4}"
        assert store.run_stats("run0")["synced"] == 0  # pruned
        total = store.run_stats(stats.TOTAL)
        assert total["synced"] == stats.RUNS_KEPT + 5 and total["scenes_timed"] == stats.RUNS_KEPT + 5
