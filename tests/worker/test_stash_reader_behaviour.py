"""Reading from Stash through the real stashapi: batching, fan-out, paging, auth fallback, timeouts, images."""

from __future__ import annotations

import time

import pytest

from emulators.stash.server import StashEmulator
from worker.stash import reader as stash_reader
from worker.stash.reader import (StashAuthError, StashDataError, StashReader, StashUnavailable, watermark_with_margin,
                                 window_start_like)


@pytest.fixture()
def stash():
    with StashEmulator(api_key="the-api-key", require_auth=True) as emulator:
        yield emulator


def reader(stash, **kwargs) -> StashReader:
    return StashReader(stash.server_connection("/tmp/x", "/tmp/y"), **kwargs)


def test_hydration_is_one_request_per_two_hundred_ids(stash):
    ids = [stash.add_scene(title=f"S{n}", files=[{"path": f"/v/{n}.mp4", "size": n}]) for n in range(450)]
    r = reader(stash)
    stash.reset_queries()
    scenes = r.scenes_by_ids(ids + ["99999"])
    assert len(scenes) == 450 and 99999 not in scenes
    assert sum(1 for name, _, _ in stash.queries if name == "PlexSyncScenesByIds") == 3
    assert scenes[int(ids[0])]["files"][0]["path"] == "/v/0.mp4"


def test_fan_out_ids_per_kind(stash):
    parent = stash.add_studio("Parent")
    child = stash.add_studio("Child", parent_id=parent)
    performer, tag, group = stash.add_performer("P"), stash.add_tag("T"), stash.add_group("G")
    a = stash.add_scene(studio_id=child, performer_ids=[performer], tag_ids=[tag], group_ids=[group])
    b = stash.add_scene(studio_id=parent)
    stash.add_scene()
    r = reader(stash)
    assert r.scene_ids_for("performer", performer) == [int(a)]
    assert r.scene_ids_for("studio", parent) == sorted([int(a), int(b)])  # a parent's rename reaches its children
    assert r.scene_ids_for("tag", tag) == [int(a)]
    assert r.scene_ids_for("group", group) == [int(a)]


def test_paging_and_updated_after(stash):
    ids = [stash.add_scene(title=f"P{n}") for n in range(7)]
    r = reader(stash)
    scenes = list(r.iter_scenes(per_page=3))
    assert [s["id"] for s in scenes] == ids
    later = list(r.iter_scenes(updated_after_text=scenes[3]["updated_at"]))
    assert [s["id"] for s in later] == ids[4:]
    assert next(r.iter_scenes(per_page=1, newest_first=True))["id"] == ids[-1]


def test_expired_session_switches_to_the_api_key(stash):
    stash.add_scene(title="x")
    r = reader(stash)
    stash.expire_session()
    assert len(list(r.iter_scenes())) == 1 and r.using_api_key


def test_long_runs_switch_before_the_cookie_expires(stash, monkeypatch):
    r = reader(stash)
    monkeypatch.setattr(stash_reader, "COOKIE_MAX_AGE_S", 0)
    r.ensure_fresh_auth()
    assert r.using_api_key and r.stash.s.headers["ApiKey"] == "the-api-key"


def test_no_api_key_and_an_expired_session_is_a_clear_auth_error():
    with StashEmulator(api_key="", require_auth=True) as stash:
        r = reader(stash)
        stash.expire_session()
        with pytest.raises(StashAuthError, match="API key"):
            r.plugin_settings("PlexSync")


def test_timeouts_really_apply(stash):
    r = reader(stash, timeout_s=0.5)
    stash.hang(2.0)
    started = time.monotonic()
    with pytest.raises(StashUnavailable):
        r.plugin_settings("PlexSync")
    assert time.monotonic() - started < 1.8


def test_server_errors_are_unavailable_and_settings_default_to_empty(stash):
    r = reader(stash)
    assert r.plugin_settings("PlexSync") == {}
    stash.fail(times=2, status=502)
    with pytest.raises(StashUnavailable):
        r.plugin_settings("PlexSync")


def test_cover_download_uses_stash_auth(stash):
    scene_id = stash.add_scene(screenshot=b"\x89PNG-cover")
    r = reader(stash)
    url = r.scenes_by_ids([scene_id])[int(scene_id)]["paths"]["screenshot"]
    assert r.download_image(url) == b"\x89PNG-cover"
    with pytest.raises(StashDataError):
        r.download_image(url.replace(f"/scene/{scene_id}/", "/scene/424242/"))


def test_from_url_for_the_command_line(stash):
    r = StashReader.from_url(stash.url, "the-api-key")
    assert r.using_api_key and r.plugin_settings("PlexSync") == {}
    with pytest.raises(ValueError):
        StashReader.from_url("not a url")


def test_watermarks_keep_stash_offset_and_shape():
    assert watermark_with_margin("2026-03-29T02:30:00+02:00", 600) == "2026-03-29T02:20:00+02:00"
    assert watermark_with_margin("2026-01-01T00:05:00Z", 600) == "2025-12-31T23:55:00Z"
    assert window_start_like("2025-06-01T10:00:00-05:00", 0).endswith("-05:00")


@pytest.mark.parametrize(("conn", "expected"), [
    ({"Scheme": "https", "Host": "0.0.0.0"}, True), ({"Scheme": "https", "Host": "127.0.0.1"}, True),
    ({"Scheme": "https", "Host": "localhost"}, True), ({"Scheme": "https", "Host": "[::1]"}, True),
    ({"Scheme": "https", "Host": "stash.example.org"}, False), ({"Scheme": "http", "Host": "0.0.0.0"}, False),
])
def test_only_tls_to_our_own_stash_on_loopback_skips_the_certificate_check(conn, expected):
    from worker.stash.reader import talks_to_own_stash_over_tls

    assert talks_to_own_stash_over_tls(conn) is expected


def test_reading_ahead_asks_for_the_next_page_while_the_caller_works_through_this_one(stash):
    ids = [stash.add_scene(title=f"S{n}", files=[{"path": f"/v/{n}.mp4", "size": n}]) for n in range(5)]
    r = reader(stash)
    assert r.features.groups  # Stash's version: asked once per run, before the first scene page
    stash.reset_queries()
    pages = r.iter_scenes(per_page=2, read_ahead=True)
    first = next(pages)
    deadline = time.monotonic() + 10
    while len(stash.queries) < 2 and time.monotonic() < deadline:  # page 2 is asked for on another thread
        time.sleep(0.01)
    assert [variables["filter"]["page"] for _, _, variables in stash.queries] == [1, 2]
    assert [first["id"], *(scene["id"] for scene in pages)] == ids
    assert [variables["filter"]["page"] for _, _, variables in stash.queries] == [1, 2, 3]  # none past the end
