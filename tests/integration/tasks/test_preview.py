"""Preview Sync (no changes): per scene and field, old → new; zero Plex writes, no queue change, and a real
run afterwards writes exactly what the preview showed."""

from __future__ import annotations

import re

from emulators import demo_library as lib
from sync_queue.store import Store

_PARAM_FIELD = re.compile(r"^([A-Za-z]+)(?:\.value|\[\d*\]\.tag(?:\.tag)?-?)$")


def written_fields(plex, rating_key: int) -> set[str]:
    """The fields the PUTs to this item carried values for (locks alone are not values)."""
    names = set()
    for request in plex.requests:
        if request.method == "PUT" and request.param("id") == str(rating_key):
            names |= {match.group(1) for key, _ in request.query if (match := _PARAM_FIELD.match(key))}
    return names


def queue_snapshot(world) -> list:
    with Store(world.data_dir) as store:
        rows = store.conn.execute("SELECT * FROM scenes ORDER BY scene_id").fetchall()
        return [tuple(row) for row in rows] + [store.intake_size()]


def scene_entry(result: dict, scene_id) -> dict:
    return next(item for item in result["scenes"] if item["scene_id"] == int(scene_id))


def test_preview_writes_nothing_and_the_real_run_writes_exactly_what_it_showed(world):
    tag = world.stash.add_tag("Outdoor")
    first, key1 = world.scene("p1.mp4", title="New title", details="A summary", tag_ids=[tag])
    second, key2 = world.scene("p2.mp4", title="Second", date="2021-05-04")
    waiting, _ = world.scene("absent.mp4", plex=False, title="Not in Plex yet")
    before = queue_snapshot(world)
    world.plex.reset_requests()

    preview = world.run("preview")

    assert world.plex.writes() == 0 and preview["plex_writes"] == 0
    assert queue_snapshot(world) == before  # nothing marked synced, queued or forgotten
    one = scene_entry(preview, first)
    assert one["plex_item"] == key1 and one["match"] == "path" and one["file"] == f"{lib.PLEX_ROOT}/p1.mp4"
    assert one["changes"]["title"] == {"old": "p1.mp4", "new": "New title"}
    assert one["changes"]["summary"] == {"old": "", "new": "A summary"}
    assert one["changes"]["genre"] == {"old": [], "new": ["Outdoor"]}
    assert scene_entry(preview, waiting)["outcome"] == "waiting_for_plex"
    assert preview["would_change"] == 2 and preview["outcomes"]["waiting_for_plex"] == 1

    world.run("sync_all")

    for scene_id, key in ((first, key1), (second, key2)):
        entry = scene_entry(preview, scene_id)
        shown = entry["changes"]
        assert written_fields(world.plex, key) == set(shown), scene_id
        uploads = sorted(request.path.rsplit("/", 1)[1] for request in world.plex.requests
                         if request.method == "POST" and request.path.startswith(f"/library/metadata/{key}/"))
        assert uploads == sorted({"poster": "posters", "art": "arts"}[kind] for kind in entry["images"])
        item = world.plex.item(key)
        for name, change in shown.items():
            if isinstance(change["new"], list):
                assert sorted(item.tags.get(name, [])) == sorted(change["new"]), name
            else:
                assert item.fields.get(name) == str(change["new"]), name


def test_preview_of_an_edit_shows_what_plex_was_given_and_nothing_for_unchanged_scenes(world):
    edited, key = world.scene("e.mp4", title="Before")
    untouched, _ = world.scene("u.mp4", title="Same")
    world.run("sync_all")
    world.stash.update_scene(edited, title="After")
    world.plex.reset_requests()

    preview = world.run("preview")

    assert world.plex.writes() == 0
    assert [item["scene_id"] for item in preview["scenes"]] == [int(edited)]
    assert scene_entry(preview, edited)["changes"] == {"title": {"old": "Before", "new": "After"}}
    assert preview["unchanged"] == 1 and preview["scanned"] == 2
    world.plex.reset_requests()
    world.run("sync_all")
    assert written_fields(world.plex, key) == {"title"}


def test_queue_preview_covers_pending_scenes_and_hook_events_and_leaves_them_queued(world):
    scene_id, key = world.scene("q.mp4", title="Queued")
    hooked, _ = world.scene("h.mp4", title="From a hook")
    world.queue(scene_id)
    with Store(world.data_dir) as store:  # what a hook does: one intake event, not absorbed yet
        store.append_event({"kind": "scene", "id": str(hooked), "event": "Scene.Update.Post", "at": 0})
    before = queue_snapshot(world)

    preview = world.run("preview", scope="process_queue")

    assert world.plex.writes() == 0 and scene_entry(preview, scene_id)["changes"]["title"]["new"] == "Queued"
    assert scene_entry(preview, hooked)["changes"]["title"]["new"] == "From a hook"
    assert queue_snapshot(world) == before and world.run("status")["pending"] == 2


def test_reconcile_preview_shows_the_plex_edit_it_would_overwrite(world):
    scene_id, key = world.scene("r.mp4", title="Ours")
    world.run("sync_all")
    world.plex.set_field(key, "title", "Theirs")
    world.plex.reset_requests()

    preview = world.run("preview", scope="reconcile")

    assert world.plex.writes() == 0
    assert scene_entry(preview, scene_id)["changes"]["title"] == {"old": "Theirs", "new": "Ours"}
    world.run("reconcile")
    assert written_fields(world.plex, key) == {"title"}


def test_reconcile_preview_keeps_plex_edits_when_preserve_plex_edits_is_on(world):
    scene_id, key = world.scene("k.mp4", title="Ours")
    world.run("sync_all")
    world.settings(preserve_plex_edits=True)
    world.plex.set_field(key, "title", "Theirs")

    preview = world.run("preview", scope="reconcile")

    assert preview["would_change"] == 0
    world.run("reconcile")
    assert world.plex.item(key).fields["title"] == "Theirs"
