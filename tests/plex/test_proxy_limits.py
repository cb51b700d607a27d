"""PlexSync behind a reverse proxy with nginx's defaults (8 KiB request line, 1 MiB body), through real plexapi
against the emulator's proxy mode: big edits are split so nothing is refused, and a cover the proxy refuses is
left out while every field still reaches Plex."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.plex_proxy import NGINX_REQUEST_LINE_BYTES, ProxyLimits
from emulators.plex_server import PlexEmulator
from plex.client import PlexClient
from plex.metadata_writer import ImageSource, MetadataWriter
from tests.plex.conftest import make_client

JAPANESE = "東京都渋谷区の夜景と星空を見上げる物語です第一章から最終章まで完全版"  # 34 characters
BIG_TAGS = [f"{index:02d}{JAPANESE[:29]}" for index in range(100)]  # 100 names of 31 characters
CAST = [f"Performer Number {index} Surname" for index in range(200)]


@pytest.fixture()
def proxied(emu: PlexEmulator, section_id: int, tmp_path: Path) -> PlexClient:
    emu.proxy = ProxyLimits()
    client = make_client(emu.url, tmp_path, connect_timeout=2.0, read_timeout=5.0)
    client.probe()
    emu.reset_requests()
    return client


@pytest.fixture()
def rk(emu: PlexEmulator, section_id: int) -> int:
    return emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="a")


def lines_fit(emu: PlexEmulator) -> bool:
    assert emu.proxy is not None
    return emu.proxy.refused == [] and emu.proxy.longest_line < NGINX_REQUEST_LINE_BYTES


def test_long_tag_lists_and_a_big_cast_sync_completely_in_small_requests(emu: PlexEmulator, proxied: PlexClient,
                                                                         rk: int, section_id: int) -> None:
    emu.library.merge_tag_lists = True  # indexed entries add up (see plex.edit_requests)
    assert all(len(name) == 31 for name in BIG_TAGS)
    writer = MetadataWriter(proxied)
    small = writer.push(rk, section_id, {"title": "t", "genre": BIG_TAGS[:5], "actor": CAST[:10]}, {}, None, "fp0")
    assert [r.method for r in emu.requests] == ["GET", "PUT"]  # a small edit is still one PUT
    wanted = {"title": "東京", "genre": BIG_TAGS, "actor": CAST}
    first = writer.push(rk, section_id, wanted, {}, small.record, "fp1")
    item = emu.item(rk)
    assert item.tags["genre"] == BIG_TAGS and item.tags["actor"] == CAST and item.fields["title"] == "東京"
    assert {"title", "genre", "actor"} <= item.locks and first.notes == []
    assert lines_fit(emu) and emu.count("PUT") >= 5

    emu.reset_requests()  # every name changes: removals ride with the additions, still in small requests
    renamed = {"genre": [name[::-1] for name in BIG_TAGS], "actor": [name + " Jr" for name in CAST]}
    second = writer.push(rk, section_id, {**wanted, **renamed}, {}, first.record, "fp2")
    assert item.tags["genre"] == renamed["genre"] and item.tags["actor"] == renamed["actor"]
    assert lines_fit(emu) and second.notes == []

    emu.reset_requests()
    unchanged = writer.push(rk, section_id, {**wanted, **renamed}, {}, second.record, "fp2")
    assert unchanged.requests == 0 and emu.count() == 0


def test_a_server_that_replaces_a_list_sent_in_parts_is_reported(emu: PlexEmulator, proxied: PlexClient, rk: int,
                                                                 section_id: int) -> None:
    """On a server where each indexed list replaces the item's, only the last part stays: the writer reads the
    split list back once and says what Plex kept instead of claiming success."""
    result = MetadataWriter(proxied).push(rk, section_id, {"actor": CAST}, {}, None, "fp1")
    kept = len(emu.item(rk).tags["actor"])
    assert 0 < kept < len(CAST) and lines_fit(emu)
    assert result.notes == [f"Plex kept {kept} of {len(CAST)} actor names: the list is longer than one request a "
                            "proxy takes (8 KiB) and this server replaced it with each part instead of adding the "
                            "parts up"]
    assert result.record.snapshot["actor"] == emu.item(rk).tags["actor"]  # what Plex kept, not what we sent
    again = MetadataWriter(proxied).push(rk, section_id, {"actor": CAST}, {}, result.record, "fp1")
    assert again.notes and emu.count("PUT") > 2  # the next push tries the whole list again


def cover(size: int) -> ImageSource:
    data = b"\xff\xd8\xff\xe0" + b"\0" * (size - 4)
    return ImageSource(f"http://stash/cover?{size}", lambda: data)


def test_a_cover_the_proxy_refuses_is_left_out_and_the_fields_are_written(emu: PlexEmulator, proxied: PlexClient,
                                                                         rk: int, section_id: int) -> None:
    big = cover(1536 * 1024)
    result = MetadataWriter(proxied).push(rk, section_id, {"title": "Fields arrive"}, {"poster": big, "art": big},
                                          None, "fp1")
    assert emu.item(rk).fields["title"] == "Fields arrive" and "title" in emu.item(rk).locks
    assert emu.count("POST") == 0 and [status for status, _ in emu.proxy.refused] == [413]  # same bytes: once
    assert emu.item(rk).posters == [] and result.uploaded == []
    assert set(result.unusable_images) == {"poster", "art"}
    assert "413" in result.notes[0] and "client_max_body_size" in result.notes[0]
    assert result.notes[0].startswith("poster left out") and result.notes[1].startswith("background left out")
    assert "poster" not in result.record.image_urls  # tried again on the next push


def test_a_cover_within_the_limit_goes_through(emu: PlexEmulator, proxied: PlexClient, rk: int,
                                               section_id: int) -> None:
    result = MetadataWriter(proxied).push(rk, section_id, {"title": "t"}, {"poster": cover(900 * 1024)}, None, "f")
    assert result.uploaded == ["poster"] and result.notes == [] and emu.count("POST") == 1


@pytest.mark.parametrize("data, reason", [
    (b"<html><body>Login</body></html>", "not a JPEG, PNG, WebP or GIF"),
    (b"\x00\x00\x00\x1cftypavif", "not a JPEG, PNG, WebP or GIF"),
    (b"", "not a JPEG, PNG, WebP or GIF"),
])
def test_only_bytes_of_an_image_type_plex_shows_are_uploaded(emu: PlexEmulator, proxied: PlexClient, rk: int,
                                                               section_id: int, data: bytes, reason: str) -> None:
    result = MetadataWriter(proxied).push(rk, section_id, {"title": "t"},
                                          {"poster": ImageSource("http://stash/x", lambda: data)}, None, "f")
    assert emu.count("POST") == 0 and reason in result.unusable_images["poster"]
    assert emu.item(rk).fields["title"] == "t"
    images = {"poster": ImageSource("p", lambda: b"RIFF\x10\0\0\0WEBPVP8 "), "art": ImageSource("a", lambda: b"GIF89a")}
    assert MetadataWriter(proxied).push(rk, section_id, {}, images, None, "f").uploaded == ["poster", "art"]
    png = {"poster": ImageSource("p2", lambda: b"\x89PNG\r\n\x1a\n")}
    assert MetadataWriter(proxied).push(rk, section_id, {}, png, None, "f").uploaded == ["poster"]


def test_the_proxy_refuses_a_long_request_line_with_nginx_page(emu: PlexEmulator, proxied: PlexClient,
                                                               rk: int, section_id: int) -> None:
    """The emulator's proxy mode itself: what the writer avoids is really refused."""
    from plex.errors import PlexRejected

    with pytest.raises(PlexRejected) as caught:
        proxied.put_edits(section_id, rk, {"summary.value": "x" * 9000})
    assert caught.value.status == 414 and emu.proxy.refused[0][0] == 414
    assert emu.count("PUT") == 0 and "summary" not in emu.item(rk).fields  # it never reached Plex
