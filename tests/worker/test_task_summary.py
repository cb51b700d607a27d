"""The words a task's summary line uses, from its output alone."""

from __future__ import annotations

from worker.tasks.summary import summary_lines


def test_a_sync_summary_names_what_did_not_reach_plex_and_the_fix():
    output = {"processed": 9, "succeeded": 4, "unchanged": 1, "failed": 2, "skipped": 1, "deferred": 2,
              "remaining": 2, "background_worker": "started", "stopped": "idle",
              "attention": [{"scene_id": 7, "state": "ambiguous", "reason": "two items"},
                            {"scene_id": 8, "state": "waiting_for_plex", "reason": "not listed"},
                            {"scene_id": 9, "state": "waiting_for_plex", "reason": "not listed"},
                            {"scene_id": 10, "state": "dead", "reason": "400"}]}
    assert summary_lines("process_queue", {**output, "scene_titles": {"7": "Harbour Lights"}}) == [
        "Process Queue: Synced 3 (1 more already up to date); 1 ambiguous ('Harbour Lights' (scene 7): map its path "
        "with Path map, or remove the duplicate in Plex); 1 dead-lettered (scene 10: see Queue Status; Retry Failed "
        "Jobs after fixing it); 2 waiting for Plex to list their file; 1 failed and will be retried; 2 scenes still "
        "queued (a background worker goes on with them)"]


def test_a_stopped_sync_says_why():
    output = {"processed": 0, "succeeded": 0, "unchanged": 0, "failed": 0, "remaining": 3, "stopped": "auth",
              "message": "Plex rejected the token (401)", "attention": []}
    assert summary_lines("sync_all", {**output, "scanned": 10, "queued": 3}) == [
        "Sync All: 3 of 10 scenes differed from Plex. Synced 0; 3 scenes still queued; stopped: Plex rejected the "
        "token (401)"]


def test_a_disabled_plugin_says_what_stays_queued():
    output = {"skipped": "PlexSync is disabled in its settings", "remaining": 2, "fanout_pending": 1}
    assert summary_lines("process_queue", output) == [
        "PlexSync is disabled in its settings: nothing was synced; 2 scenes and 1 performer/studio/tag/group change "
        "stay queued"]


def test_queue_status_reads_as_a_few_lines():
    status = {"pending": 2, "in_progress": 0, "fanout_pending": 0, "dead": 1, "synced": 40, "skipped": 1,
              "circuit": "closed", "worker_running": False, "last_sync_at": None,
              "paused": {"kind": "auth", "message": "Plex rejected the token (401)", "since": None},
              "match_methods": {"path": 39, "basename_size": 1},
              "needs_attention": [{"scene_id": 5, "state": "skipped", "reason_class": "AmbiguousMatch",
                                   "reason": "2 Plex items could be this scene: ratingKey 8: /m/a.mp4; "
                                             "ratingKey 9: /n/a.mp4"}]}
    assert summary_lines("status", status) == [
        "Queue: 2 ready to sync, 0 syncing now, 0 waiting for Plex, 0 retrying later, 1 failed; 40 synced, 1 skipped",
        "Plex connection: OK; background worker not running; last sync never",
        "Paused: Plex rejected the token (401) — run Health Check after fixing it",
        "Skipped, ambiguous: scene 5: Several Plex items could be its file (Plex item 8: /m/a.mp4; Plex item 9: "
        "/n/a.mp4). To fix: Remove the duplicate item in Plex, give Path map a rule that maps this scene's path to "
        "one of them, or turn on Pick the closest match when files look alike; then Sync All Scenes",
        "Failed: 1 older dead letter not named here (the PlexSync page lists every one)",
        "Links: 39 by path, 1 by file name and size",
    ]


def test_queue_status_names_failed_and_waiting_scenes_by_title_with_reason_and_fix():
    status = {"pending": 1, "in_progress": 0, "waiting_for_plex": 1, "in_backoff": 0, "dead": 1, "synced": 3,
              "circuit": "open", "circuit_retry_at": 1_900_000_000.0, "scene_titles": {"25": "Not in Plex yet"},
              "dead_letters": [{"scene_id": 3, "error_class": "PlexRejected", "attempts": 5, "last_failed_at": 1.0,
                                "message": "Plex refused the request: (400) bad_request; http://plex:32400/library/"
                                           "sections/1/all <html><body><h1>400</h1></body></html>"}],
              "needs_attention": [{"scene_id": 25, "state": "waiting_for_plex", "reason_class": "ItemNotInPlex",
                                   "reason": "No Plex item has this file: /media/new.mp4"}]}
    lines = summary_lines("status", status)
    assert lines[0].startswith("Queue: 0 ready to sync, 0 syncing now, 1 waiting for Plex, 0 retrying later, "
                               "1 failed; "), lines  # the waiting scene is not counted as ready as well
    assert lines[1].startswith("Plex connection: failing, next try at ")
    failed, waiting = lines[2], lines[3]
    assert failed.startswith("Failed: scene 3: Plex refused the request (400 Bad Request) (tried 5 times). To fix: "
                             "Check the scene in Stash"), failed
    assert "<html" not in failed and "http://" not in failed and "PlexRejected" not in failed
    assert waiting.startswith("Waiting for Plex: 'Not in Plex yet' (scene 25): Plex has not listed its file yet: "
                              "/media/new.mp4. To fix: "), waiting
    assert "ItemNotInPlex" not in "\n".join(lines)


RUN_STATS = {"synced": 4, "unchanged": 3, "failed": {"PlexRejected": 1, "SceneDataError": 1},
             "dead_lettered": {"PlexRejected": 1}, "skipped": {},
             "methods": {"path": 3, "basename_size": 1, "ambiguous": 1, "not_found": 2},
             "scenes_timed": 10, "avg_seconds": 0.125, "p90_seconds": 0.5}


def test_a_sync_summary_gives_the_runs_figures_before_its_last_line():
    output = {"processed": 10, "succeeded": 7, "unchanged": 3, "failed": 2, "remaining": 0, "stopped": "idle",
              "attention": [], "run_stats": RUN_STATS}
    lines = summary_lines("process_queue", output)
    assert lines[0] == ("Process Queue figures: 4 synced, 3 unchanged, 2 failed (refused by Plex 1, unusable Stash "
                        "data 1), "
                        "1 dead-lettered; links: 3 by path, 1 by file name and size, 1 ambiguous, 2 not found in "
                        "Plex; 0.12 s a scene on average, p90 0.50 s")
    assert lines[-1].startswith("Process Queue: Synced 4 (3 more already up to date)")


def test_queue_status_shows_the_last_run_and_since_install():
    status = {"pending": 0, "in_progress": 0, "dead": 0, "synced": 4, "circuit": "closed",
              "stats": {"last_run": RUN_STATS, "since_install": RUN_STATS}}
    lines = summary_lines("status", status)
    assert lines[2].startswith("Last run: 4 synced, 3 unchanged") and lines[3].startswith("Since install: 4 synced")
