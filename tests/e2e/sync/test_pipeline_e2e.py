"""The full pipeline through the plugin runner against both emulators (what a user sees in Plex)."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

WRITTEN_LOCKS = {"title", "summary", "tagline", "originallyAvailableAt", "year", "studio", "userRating", "genre",
                 "actor", "director", "collection"}


@pytest.fixture()
def library(harness):
    """The demo library in both emulators; returns (scene ids by path, performer ids, Plex keys by path)."""
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, performer_ids = lib.populate_stash(harness.stash)
    return scene_ids, performer_ids, rating_keys


def sync_all(harness) -> dict:
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    return result.output


def test_every_field_lands_locked_and_exact(harness, library):
    scene_ids, _, rating_keys = library
    output = sync_all(harness)
    assert output["processed"] == len(scene_ids)
    first = lib.SCENES[0]
    item = harness.plex.item(rating_keys[first.relative_path])
    assert item.fields["title"] == "Harbour Lights"
    assert item.fields["summary"] == first.details  # paragraphs kept
    assert item.fields["tagline"] == "BL-0412"
    assert item.fields["originallyAvailableAt"] == "2024-03-02" and item.fields["year"] == "2024"
    assert item.fields["studio"] == "Brightline"
    assert float(item.fields["userRating"]) == 8.0
    assert item.tags["genre"] == ["Outdoor", "Evening", "Romance"]
    assert item.tags["actor"] == ["Ava Stone", "Mia Chen"]
    assert item.tags["director"] == ["Jon Park"]
    assert set(item.tags["collection"]) == {"Brightline", "My Favourites"}  # the user's own survives
    assert WRITTEN_LOCKS <= item.locks
    assert len(item.posters) == 1 and len(item.arts) == 1
    paris = harness.plex.item(rating_keys[lib.SCENES[1].relative_path])
    assert paris.fields.get("originallyAvailableAt", "") == "" and paris.fields["year"] == "2023"
    assert paris.tags["actor"] == ["Mia Chen (Berlin)"]
    assert set(paris.tags["collection"]) == {"Brightline Europe", "Brightline"}
    tokyo = harness.plex.item(rating_keys[lib.SCENES[2].relative_path])
    assert tokyo.fields["title"] == "東京 Nights" and tokyo.tags["genre"] == ["Night", "Neon", "Travel & Food"]
    untitled = harness.plex.item(rating_keys[lib.SCENES[3].relative_path])
    assert untitled.fields["title"] == "clip_0001"  # an empty Stash title never clears Plex's


def test_removals_in_stash_remove_in_plex_and_user_collection_survives(harness, library):
    scene_ids, performer_ids, rating_keys = library
    sync_all(harness)
    path = lib.SCENES[0].relative_path
    scene_id = scene_ids[path]
    scene = harness.stash.scene(scene_id)
    keep_tag = [t["id"] for t in scene["tags"] if t["name"] == "Outdoor"]
    harness.stash.update_scene(scene_id, tag_ids=keep_tag, performer_ids=[performer_ids["Mia Chen"]])
    harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id}, input_fields=["id"])
    harness.wait_idle()
    item = harness.plex.item(rating_keys[path])
    assert item.tags["genre"] == ["Outdoor"]
    assert item.tags["actor"] == ["Mia Chen"]
    assert "My Favourites" in item.tags["collection"]


def test_second_sync_all_of_an_unchanged_library_writes_nothing(harness, library):
    sync_all(harness)
    harness.plex.reset_requests()
    output = sync_all(harness)
    assert harness.plex.writes() == 0
    assert output["queued"] == 0


def test_prefix_mapped_paths_match_and_duplicate_basenames_never_cross(harness):
    plex, stash = harness.plex, harness.stash
    section = plex.add_section(title="Movies", locations=["/media/stash"], type="movie")
    key_a = plex.add_item(section, file="/media/stash/a/clip.mp4", size=100, title="clip")
    key_b = plex.add_item(section, file="/media/stash/b/clip.mp4", size=200, title="clip")
    stash.add_scene(title="In A", files=[{"path": f"{lib.STASH_ROOT}/a/clip.mp4", "size": 100}])
    stash.add_scene(title="In B", files=[{"path": f"{lib.STASH_ROOT}/b/clip.mp4", "size": 200}])
    stranger = stash.add_scene(title="Elsewhere", files=[{"path": "/elsewhere/c/clip.mp4", "size": 300}])
    harness.settings(skip_not_found=True)
    sync_all(harness)
    assert plex.item(key_a).fields["title"] == "In A"
    assert plex.item(key_b).fields["title"] == "In B"
    status = harness.status()
    assert status["match_methods"].get("path") == 2
    assert status["skipped"] == 1 and stranger


def test_plex_down_then_back_dead_letters_nothing(harness, library):
    scene_ids, _, rating_keys = library
    harness.plex.go_down()
    result = harness.task("Process Queue")
    assert result.error and "not reachable" in result.error
    for scene_id in scene_ids.values():
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    status = harness.status()
    assert status["dead"] == 0
    harness.plex.come_up()
    result = harness.task("Process Queue")
    assert result.error is None, result.error
    assert result.progress and all(0.0 <= p <= 1.0 for p in result.progress) and result.progress[-1] == 1.0
    if result.output["processed"]:  # the background worker may have finished first; then there is no ETA to give
        assert any("ETA" in text for _, text in result.logs), result.logs
    status = harness.wait_idle()
    assert status["dead"] == 0 and status["synced"] == len(scene_ids)
    assert harness.plex.item(rating_keys[lib.SCENES[0].relative_path]).fields["title"] == "Harbour Lights"


def test_rejected_token_pauses_the_queue_and_health_names_it(harness, library):
    scene_ids, _, _ = library
    harness.settings(plex_token="wrong-token-123")
    for scene_id in scene_ids.values():
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    health = harness.task("Health Check")
    assert health.error and "token" in health.error and "401" in health.error
    result = harness.task("Process Queue")
    assert result.error and "401" in result.error
    status = harness.status()
    assert status["dead"] == 0 and status["pending"] == len(scene_ids)
    assert status["paused"]["kind"] == "auth"
    harness.settings()  # the user fixes the token and checks it, as README says
    health = harness.task("Health Check")
    assert health.error is None and health.output["background_worker"] == "started"
    assert harness.wait_idle()["synced"] == len(scene_ids)  # the held edits sync without another save


def test_two_runs_use_one_client_identifier(harness, library):
    harness.task("Health Check")
    harness.task("Health Check")
    stored = (harness.data_dir / "device_id").read_text(encoding="utf-8").strip()
    # plexapi's own default (the MAC address) is also stable per host: only ours proves the identity is ours.
    assert harness.plex.client_identifiers == {stored}


def test_request_counts_new_edit_unchanged(harness):
    plex, stash = harness.plex, harness.stash
    section = plex.add_section(title="Counted", locations=["/media/stash"], type="movie")
    key = plex.add_item(section, file="/media/stash/n.mp4", size=9, title="n")
    scene_id = stash.add_scene(title="New", details="d", files=[{"path": f"{lib.STASH_ROOT}/n.mp4", "size": 9}],
                               screenshot=lib.tiny_png(3))
    sync_all(harness)  # builds the index (one listing) and pushes the new scene
    per_item = [r for r in plex.requests if f"/{key}" in r.path or f"id={key}" in "&".join(f"{k}={v}" for k, v in r.query)]
    detail_reads = [r for r in per_item if r.method == "GET"]
    writes = [r for r in per_item if r.method in ("PUT", "POST")]
    assert len(detail_reads) <= 1 and len(writes) == 1 + 2  # one metadata PUT + poster + background

    plex.reset_requests()
    stash.update_scene(scene_id, title="New title")
    harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id, "title": "New title"},
                            input_fields=["id", "title"])
    harness.wait_idle()
    # One GET of the item, then its PUT: no write without a read showing the scene's file there (write safety).
    assert [(r.method) for r in plex.requests if r.method != "GET" or "/library/metadata" in r.path] == ["GET", "PUT"]
    assert plex.item(key).fields["title"] == "New title"

    plex.reset_requests()
    sync_all(harness)
    assert plex.writes() == 0
    assert not [r for r in plex.requests if r.path.startswith("/library/metadata/")]


def test_token_never_reaches_a_log_or_the_data_dir(harness, library):
    scene_ids, _, _ = library
    harness.settings(verbose_logging=True)  # the chattiest logs, on the error paths too
    harness.plex.fail(r"^/library/sections/\d+/all$", 500, times=2, method="PUT")
    harness.plex.fail(r"^/library/metadata/\d+/posters$", 400, times=1, method="POST")
    harness.plex.drop(r"^/library/metadata/\d+$", times=1, method="GET")
    for scene_id in scene_ids.values():
        result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
        assert lib.PLEX_TOKEN not in result.stderr_raw.decode("utf-8", "replace")
    harness.wait_idle()
    for name in ("Sync All Scenes", "Health Check", "Queue Status", "Process Queue"):
        result = harness.task(name)
        assert lib.PLEX_TOKEN not in result.stderr_raw.decode("utf-8", "replace")
        assert lib.PLEX_TOKEN not in result.stdout_raw.decode("utf-8", "replace")
    for path in harness.data_dir.rglob("*"):
        if path.is_file():
            assert lib.PLEX_TOKEN.encode() not in path.read_bytes(), path
