"""A 120-performer cast as Stash runs the plugin (issue 19): a direct Plex takes it whole with photos; behind nginx
it is cut the same way every time, said in the scene's status, and Sync All with nothing changed writes nothing.

Plex replaces an item's list with each list it receives, so a cast must travel whole in one request; nginx's
default request line is 8 KiB."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib
from emulators.plex.proxy import ProxyLimits

pytestmark = pytest.mark.e2e

# Long, non-ASCII names as a multilingual library has them (40+ characters, accents, CJK, kana).
CAST = [f"Zoë Ångström-Łukasiewicz 山田花子 さくら Ōtsuki {n:03d}" for n in range(120)]


@pytest.fixture()
def big_cast(harness):
    section = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")
    performers = [harness.stash.add_performer(name) for name in CAST]
    for number, performer in enumerate(performers):
        harness.stash.set_image("performer", performer, b"\xff\xd8\xff-photo-%d" % number)
    key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/crowd.mp4", size=10, title="crowd")
    scene = harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/crowd.mp4", "size": 10}], title="Crowd",
                                    performer_ids=performers)
    return {"section": section, "key": key, "scene": scene, "performers": performers}


def sync_all(harness):
    result = harness.task("Sync All Scenes")
    assert result.error is None, result.error
    return result


def cast_in_plex(harness, key: int) -> list[tuple[str, str | None]]:
    item = PlexServer(harness.plex.url, lib.PLEX_TOKEN).fetchItem(key)
    return [(role.tag, role.thumb) for role in item.roles]


def preview(harness):
    result = harness.task("Preview Sync (no changes)")
    assert result.error is None, result.error
    return result


def test_directly_connected_all_120_performers_with_photos_reach_plex_in_one_put(harness, big_cast):
    harness.settings(stash_url_for_plex="http://nas.local:9999")
    planned = preview(harness)  # the preview says what writing a photo does to Plex
    assert any(level == "info" and "a Plex actor has one photo for the whole server" in text
               for level, text in planned.logs)
    sync_all(harness)
    shown = cast_in_plex(harness, big_cast["key"])
    assert [name for name, _ in shown] == CAST  # 120 of 120, in Stash's order
    assert all(thumb and thumb.startswith("http://nas.local:9999/performer/") for _, thumb in shown)
    assert harness.plex.count("PUT") == 1 and harness.plex.refused_lines == []
    assert harness.status()["needs_attention"] == []


def test_behind_nginx_the_cut_is_stable_reported_and_sync_all_writes_nothing_more(harness, big_cast):
    harness.plex.proxy = ProxyLimits()
    first = sync_all(harness)
    kept = [name for name, _ in cast_in_plex(harness, big_cast["key"])]
    assert 0 < len(kept) < len(CAST) and kept == CAST[:len(kept)]  # the start of the cast, in Stash's order
    note = f"Plex got {len(kept)} of 120 performers"
    assert any(level == "info" and note in text for level, text in first.logs)
    attention = {entry["scene_id"]: entry for entry in harness.status()["needs_attention"]}
    reason = attention[int(big_cast["scene"])]["reason"]
    assert reason.startswith(note) and CAST[len(kept)] in reason and "large_client_header_buffers" in reason
    # What reached Plex: the cover, the scalars and the cut cast, each once (refused requests never reach it).
    assert [request.method for request in harness.plex.requests if request.method != "GET"] == [
        "POST", "POST", "PUT", "PUT"]

    harness.plex.reset_requests()
    for _ in range(3):  # nothing changed in Stash: nothing is even queued, and nothing is written
        assert sync_all(harness).output["queued"] == 0
    assert harness.plex.writes() == 0
    assert [name for name, _ in cast_in_plex(harness, big_cast["key"])] == kept
    assert int(big_cast["scene"]) in {entry["scene_id"] for entry in harness.status()["needs_attention"]}

    refused = len(harness.plex.proxy.refused)  # a new scene in a later run: the limit is remembered
    other = harness.plex.add_item(big_cast["section"], file=f"{lib.PLEX_ROOT}/crowd2.mp4", size=11, title="c2")
    harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/crowd2.mp4", "size": 11}], title="Crowd 2",
                            performer_ids=big_cast["performers"])
    sync_all(harness)
    assert len(harness.plex.proxy.refused) == refused
    assert [name for name, _ in cast_in_plex(harness, other)] == kept

    harness.plex.add_item(big_cast["section"], file=f"{lib.PLEX_ROOT}/crowd3.mp4", size=12, title="c3")
    harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/crowd3.mp4", "size": 12}], title="Crowd 3",
                            performer_ids=big_cast["performers"])
    planned = preview(harness)  # what a sync would leave out, before it is written
    (scene,) = planned.output["scenes"]
    assert scene["changes"]["actor"]["new"] == kept and scene["left_out"] == {"actor": CAST[len(kept):]}
    assert any(level == "info" and f"actor: {len(CAST) - len(kept)} names left out" in text
               for level, text in planned.logs)
