"""A cover that Plex's reverse proxy refuses never blocks a scene: the fields sync, status says why, and the
cover arrives once the proxy takes it."""

from __future__ import annotations

from emulators.plex.proxy import ProxyLimits

BIG_COVER = b"\xff\xd8\xff\xe0" + b"\0" * (1536 * 1024)  # a 1.5 MB JPEG: over nginx's default 1 MB body


def test_a_cover_the_proxy_refuses_leaves_the_fields_synced_and_says_why(world):
    world.plex.proxy = ProxyLimits()
    scene_id, rating_key = world.scene("big-cover.mp4", title="Fields first", screenshot=BIG_COVER)
    world.queue(scene_id)
    out = world.run("process_queue")
    assert out["succeeded"] == 1 and out["failed"] == 0 and out["remaining"] == 0
    item = world.plex.item(rating_key)
    assert item.fields["title"] == "Fields first" and item.posters == [] and item.arts == []
    status = world.run("status")
    assert status["dead"] == 0
    shown = {entry["scene_id"]: entry for entry in status["needs_attention"]}
    assert shown[int(scene_id)]["state"] == "synced_in_part" and shown[int(scene_id)]["reason_class"] == "LeftOut"
    assert "413" in shown[int(scene_id)]["reason"] and "client_max_body_size" in shown[int(scene_id)]["reason"]

    world.plex.proxy.body_bytes = 8 * 1024 * 1024  # the user raises client_max_body_size
    world.run("sync_all")
    assert len(world.plex.item(rating_key).posters) == 1 and len(world.plex.item(rating_key).arts) == 1
    assert int(scene_id) not in {entry["scene_id"] for entry in world.run("status")["needs_attention"]}
