"""Collection posters (worker.artwork.collection_posters) against both emulators through the real clients: what
is uploaded, left out or never touched, and that the record survives a new run."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from emulators.plex.proxy import ProxyLimits
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from plex.metadata_writer import PushRecord
from sync_queue.store import Store
from tests.plex.conftest import make_client
from validation.config import load_config
from worker.artwork.collection_posters import RETRY_REFUSED_AFTER_S, CollectionPosters
from worker.stash.reader import StashReader

JPEG = b"\xff\xd8\xff-studio"


@pytest.fixture()
def stash():
    with StashEmulator() as emulator:
        yield emulator


@pytest.fixture()
def world(emu: PlexEmulator, section_id: int, stash: StashEmulator, tmp_path: Path):
    """A studio with an image, two scenes of it in Stash, both Plex items in its collection (added by us)."""
    studio = stash.add_studio("Harbour Films")
    stash.set_image("studio", studio, JPEG)
    keys = [emu.add_item(section_id, file=f"/data/stash/{n}.mp4", size=n, title=str(n)) for n in (1, 2)]
    for key in keys:
        emu.set_tags(key, "collection", ["Harbour Films", "Mine"])
    scenes = [stash.scene(stash.add_scene(title=str(n), studio_id=studio)) for n in (1, 2)]
    store = Store(tmp_path / "data")
    reader = StashReader.from_url(stash.url)
    yield SimpleNamespace(emu=emu, stash=stash, section=section_id, studio=studio, scenes=scenes, store=store,
                          reader=reader, tmp=tmp_path)
    store.close()


def run(world, **settings) -> CollectionPosters:
    config, _ = load_config({"plex_url": world.emu.url, "plex_token": "secret-token", **settings})
    plex = make_client(world.emu.url, world.tmp, attempts=1)
    return CollectionPosters(SimpleNamespace(config=config, store=world.store, plex=plex, stash=world.reader))


def ours() -> str:
    return PushRecord("fp", added_collections=["harbour films"]).to_json()  # as Plex spells it, ignoring case


def collection_key(world, title: str) -> int:
    return world.emu.library.section(world.section).collections[title]


def test_one_upload_for_many_scenes_and_none_in_a_later_run(world):
    posters = run(world)
    for scene in world.scenes:
        posters.after_scene(scene, ours(), world.section)
    key = collection_key(world, "Harbour Films")
    writes = [(r.method, r.path) for r in world.emu.requests if r.method != "GET"]
    assert writes == [("POST", f"/library/metadata/{key}/posters"), ("PUT", f"/library/sections/{world.section}/all")]
    art = world.emu.library.collection_art(key)
    assert art.selected_poster == f"upload://posters/{hashlib.sha1(JPEG).hexdigest()}" and "thumb" in art.locks
    assert world.emu.library.collection_arts.get(collection_key(world, "Mine")) is None  # the user's: untouched

    world.emu.reset_requests()
    later = run(world)  # a new run: the record is in the store
    for scene in world.scenes:
        later.after_scene(scene, ours(), world.section)
    assert world.emu.requests == []


def test_a_collection_we_did_not_add_is_never_touched(world):
    posters = run(world)
    posters.after_scene(world.scenes[0], PushRecord("fp", added_collections=[]).to_json(), world.section)
    assert world.emu.requests == []


def test_a_proxy_refusing_the_upload_leaves_it_out_and_it_is_tried_again_a_day_later(world, caplog):
    world.emu.fail(r"/posters$", 413, times=1, method="POST")
    run(world).after_scene(world.scenes[0], ours(), world.section)
    assert "client_max_body_size" in caplog.text
    assert world.emu.library.collection_art(collection_key(world, "Harbour Films")).selected_poster is None

    world.emu.reset_requests()
    run(world).after_scene(world.scenes[0], ours(), world.section)  # a new run the same day: not tried
    assert [r.method for r in world.emu.requests if r.method != "GET"] == []
    posters = run(world)
    posters.clock = lambda: time.time() + RETRY_REFUSED_AFTER_S + 1
    posters.after_scene(world.scenes[0], ours(), world.section)
    assert [r.method for r in world.emu.requests if r.method != "GET"] == ["POST", "PUT"]


@pytest.fixture()
def twelve_studios(world):
    """12 studios with images, one Plex collection each, and 200 scenes of them (as Sync All meets them)."""
    studios = []
    for number in range(12):
        studio = world.stash.add_studio(f"Studio {number:02d}")
        world.stash.set_image("studio", studio, JPEG + bytes([number]))
        key = world.emu.add_item(world.section, file=f"/data/stash/studio{number}.mp4", size=number, title="s")
        world.emu.set_tags(key, "collection", [f"Studio {number:02d}"])
        studios.append(studio)
    scenes = [world.stash.scene(world.stash.add_scene(title=str(n), studio_id=studios[n % 12])) for n in range(200)]
    return [(scene, PushRecord("fp", added_collections=[scene["studio"]["name"]]).to_json()) for scene in scenes]


def sync_all_posters(world, scenes, clock=time.time) -> None:
    posters = run(world)
    posters.clock = clock
    for scene, record in scenes:
        posters.after_scene(scene, record, world.section)


@pytest.mark.parametrize("refusal", ["404: no route on this server", "413: a proxy's body limit"])
def test_a_refused_collection_poster_is_tried_once_per_collection_per_day_and_said_once(world, twelve_studios,
                                                                                        caplog, refusal):
    """Before: every scene of a collection tried its poster again (321 failed uploads in one Sync All of 200
    scenes of 12 studios). Now: one try per collection, one warning each, nothing more that day."""
    if refusal.startswith("404"):
        world.emu.fail(r"/library/metadata/\d+/posters$", 404, times=None, method="POST")
    else:
        world.emu.proxy = ProxyLimits(body_bytes=len(JPEG) - 1)

    def tries() -> int:
        return (world.emu.count("POST") if world.emu.proxy is None
                else len([line for status, line in world.emu.proxy.refused if status == 413]))

    sync_all_posters(world, twelve_studios)
    assert tries() == 12
    warnings = [record.getMessage() for record in caplog.records if "poster not uploaded" in record.getMessage()]
    assert len(warnings) == 12 and all("tried again in a day" in text for text in warnings)
    assert all(("404" if refusal.startswith("404") else "413") in text for text in warnings)

    caplog.clear()
    sync_all_posters(world, twelve_studios)  # later the same day, in a new run
    assert tries() == 12 and "poster not uploaded" not in caplog.text

    sync_all_posters(world, twelve_studios, clock=lambda: time.time() + RETRY_REFUSED_AFTER_S + 1)
    assert tries() == 24  # a day later: one try each again


def test_an_image_plex_cannot_show_is_downloaded_once_per_run_and_never_uploaded(world, caplog):
    world.stash.set_image("studio", world.studio, b"<html>not an image</html>")
    scenes = [world.stash.scene(scene["id"]) for scene in world.scenes]
    downloads = []
    posters = run(world)
    real_download = world.reader.download_image
    world.reader.download_image = lambda url: downloads.append(url) or real_download(url)
    for scene in scenes:
        posters.after_scene(scene, ours(), world.section)
    assert len(downloads) == 1 and world.emu.requests == []
    assert "not a JPEG, PNG, WebP or GIF image" in caplog.text


def test_skip_collection_posters_and_skip_collections_send_nothing(world):
    for settings in ({"skip_fields": "collection posters"}, {"skip_fields": "collections"}):
        run(world, **settings).after_scene(world.scenes[0], ours(), world.section)
    assert world.emu.requests == []
