"""What a user ends up with when Plex (or its proxy) misbehaves during a real sync, as Stash runs the plugin: each
fault ends in backoff behind the breaker or a pause that says what to fix, and nothing is dead-lettered or lost."""

from __future__ import annotations

import time

import pytest

from emulators import demo_library as lib
from tests.faults.test_plex_answers import LOGIN_PAGE

pytestmark = pytest.mark.e2e


@pytest.fixture()
def library(harness):
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    return scene_ids, rating_keys


def process_queue(harness):
    return harness.task("Process Queue")


def edit_all(harness, scene_ids) -> None:
    for scene_id in scene_ids.values():
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)


def test_429_with_retry_after_keeps_plex_alone_that_long_and_loses_nothing(harness, library):
    scene_ids, _ = library
    harness.plex.answer(r"^/library/sections/\d+/all$", 429, b"Too Many Requests", "text/plain",
                        headers={"Retry-After": "300"}, times=None, method="PUT")
    asked_at = time.time()
    result = harness.task("Sync All Scenes")
    status = harness.status()
    assert status["dead"] == 0 and status["synced"] == 0
    assert status["circuit"] == "open" and status["circuit_retry_at"] >= asked_at + 290, status
    puts = harness.plex.count("PUT")
    # one try per scene of the batch already in flight, no in-call retry, nothing after the batch stopped
    assert puts <= len(scene_ids), f"{puts} PUTs after Plex asked to wait 300 s"
    assert result.output["remaining"] >= len(scene_ids) - 1

    harness.plex.clear_faults()
    retried = process_queue(harness)  # the user's "try now": probes Plex, closes the circuit, pushes
    assert retried.error is None, retried.error
    final = harness.wait_idle()
    assert final["dead"] == 0 and final["synced"] + final["skipped"] == len(scene_ids), final


def test_a_proxy_login_page_pauses_with_its_name_and_health_check_resumes(harness, library):
    scene_ids, _ = library
    harness.plex.answer(r".", 200, LOGIN_PAGE, "text/html; charset=utf-8", times=None)
    edit_all(harness, scene_ids)
    result = process_queue(harness)
    assert result.error is not None and "Sign in - Authelia" in result.error and "Plex URL" in result.error
    status = harness.status()
    assert status["paused"]["kind"] == "config" and status["dead"] == 0
    assert status["pending"] == len(scene_ids)  # everything still queued

    harness.plex.clear_faults()
    health = harness.task("Health Check")
    assert health.error is None, health.error
    assert process_queue(harness).error is None
    final = harness.wait_idle()
    assert final["dead"] == 0 and final["paused"] is None and final["synced"] + final["skipped"] == len(scene_ids)


def test_a_renamed_library_pauses_naming_what_exists_and_nothing_is_lost(harness, library):
    scene_ids, _ = library
    harness.settings(plex_library="Stash Scenes")
    section_id = next(iter(harness.plex.library.sections))
    harness.plex.library.rename_section(section_id, "Old Scenes")
    edit_all(harness, scene_ids)
    result = process_queue(harness)
    assert result.error is not None and "Stash Scenes" in result.error and "Old Scenes" in result.error
    status = harness.status()
    assert status["paused"]["kind"] == "config" and status["dead"] == 0 and status["pending"] == len(scene_ids)
