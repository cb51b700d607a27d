"""Actor photos in MetadataWriter against the Plex emulator: they travel with the cast, cost nothing unchanged,
ignore the name's case, go whole to a direct Plex, and behind a proxy are cut along with the cast."""

from __future__ import annotations

import pytest

from emulators.plex.proxy import ProxyLimits
from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from plex.metadata_writer import MetadataWriter
from validation import limits

CAST = {"title": "Scene", "actor": ["Ava", "Ben"]}


def photo(name: str, version: int = 1) -> str:
    return f"http://nas:9999/performer/{name}/image?t={version}"


@pytest.fixture()
def rk(emu: PlexEmulator, section_id: int) -> int:
    return emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="a")


@pytest.fixture()
def writer(client: PlexClient, emu: PlexEmulator) -> MetadataWriter:
    client.probe()
    emu.reset_requests()
    return MetadataWriter(client)


def thumbs(emu: PlexEmulator, rk: int) -> dict[str, str | None]:
    return {name: emu.library.actor_photo(name) for name in emu.item(rk).tags["actor"]}


def test_photos_ride_on_the_cast_and_unchanged_ones_cost_nothing(emu, writer, rk, section_id):
    wanted = {**CAST, "actorThumb": {"Ava": photo("ava")}}
    record = writer.push(rk, section_id, wanted, {}, None, "fp1").record
    assert thumbs(emu, rk) == {"Ava": photo("ava"), "Ben": None}

    emu.reset_requests()
    assert writer.push(rk, section_id, wanted, {}, record, "fp2").requests == 0

    changed = writer.push(rk, section_id, {**CAST, "actorThumb": {"Ava": photo("ava", 2)}}, {}, record, "fp3")
    assert changed.requests == 1 and emu.count("PUT") == 1 and "actorThumb" in changed.wrote_fields
    assert thumbs(emu, rk) == {"Ava": photo("ava", 2), "Ben": None}


def test_a_cast_change_without_photos_keeps_the_ones_written(emu, writer, rk, section_id):
    record = writer.push(rk, section_id, {**CAST, "actorThumb": {"Ava": photo("ava")}}, {}, None, "fp1").record
    emu.reset_requests()
    result = writer.push(rk, section_id, {"title": "Scene", "actor": ["Ava", "Ben", "Cy"]}, {}, record, "fp2")
    assert result.requests == 1 and emu.count("GET") == 0
    assert thumbs(emu, rk) == {"Ava": photo("ava"), "Ben": None, "Cy": None}


def test_a_photo_plex_shows_under_another_case_of_the_name_counts_as_the_same(emu, writer, rk, section_id):
    emu.set_tags(rk, "actor", ["AVA"])
    emu.library.set_actor_photo("AVA", photo("ava"))
    result = writer.push(rk, section_id, {"title": "Scene", "actor": ["AVA"], "actorThumb": {"ava": photo("ava")}},
                         {}, None, "fp1")
    assert "actor" not in result.wrote_fields and "actorThumb" not in result.wrote_fields


def test_a_large_cast_with_photos_goes_whole_to_a_direct_plex(emu, writer, rk, section_id):
    cast = [f"Performer Number {n} 東京" for n in range(limits.MAX_ACTORS)]
    wanted = {"title": "Scene", "actor": cast, "actorThumb": {name: photo(str(n)) for n, name in enumerate(cast)}}
    result = writer.push(rk, section_id, wanted, {}, None, "fp1")
    assert emu.count("PUT") == 1 and emu.refused_lines == [] and result.cuts == []
    assert thumbs(emu, rk) == wanted["actorThumb"]


def test_behind_a_proxy_a_cut_cast_keeps_the_photos_of_those_sent_and_records_only_those(emu, writer, rk,
                                                                                          section_id):
    emu.proxy = ProxyLimits()
    cast = [f"Performer Number {n} 東京" for n in range(limits.MAX_ACTORS)]
    wanted = {"title": "Scene", "actor": cast, "actorThumb": {name: photo(str(n)) for n, name in enumerate(cast)}}
    result = writer.push(rk, section_id, wanted, {}, None, "fp1")
    sent = emu.item(rk).tags["actor"]
    assert 0 < len(sent) < len(cast) and sent == cast[:len(sent)]
    assert result.record.left_out["actor"] == cast[len(sent):]
    assert thumbs(emu, rk) == {name: wanted["actorThumb"][name] for name in sent}
    assert result.record.snapshot["actorThumb"] == thumbs(emu, rk)
    emu.reset_requests()
    assert writer.push(rk, section_id, wanted, {}, result.record, "fp1").requests == 0
