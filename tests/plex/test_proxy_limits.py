"""PlexSync direct and behind a proxy, through real plexapi: a big edit goes whole where Plex takes it; behind the
proxy the limit is learned, each list is cut once in one request, and a refused cover still lets every field through.

The proxy has nginx's defaults: an 8 KiB request line and a 1 MiB body."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.plex.proxy import NGINX_REQUEST_LINE_BYTES, ProxyLimits
from emulators.plex.server import PlexEmulator
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


def actor_puts(emu: PlexEmulator) -> list:
    return [r for r in emu.requests if r.method == "PUT" and r.param("actor[0].tag.tag") is not None]


def test_directly_connected_a_200_performer_cast_goes_whole_in_one_put(emu: PlexEmulator, client: PlexClient,
                                                                       rk: int, section_id: int) -> None:
    writer = MetadataWriter(client)
    result = writer.push(rk, section_id, {"title": "東京", "genre": BIG_TAGS[:60], "actor": CAST}, {}, None, "fp1")
    assert emu.count("PUT") == 1 and emu.refused_lines == [] and result.cuts == []
    assert emu.item(rk).tags["actor"] == CAST and emu.item(rk).tags["genre"] == BIG_TAGS[:60]
    assert writer.request_limit.line_bytes is None  # nothing was refused: nothing to learn


def test_behind_nginx_the_limit_is_learned_and_each_list_is_cut_once_in_one_request(
        emu: PlexEmulator, proxied: PlexClient, rk: int, section_id: int) -> None:
    """Each list is far over 8 KiB: the first edit is refused, the limit drops step by step to one the proxy
    takes, each list is then sent whole-or-cut in ONE request (never in parts: each part would replace the last),
    and the next push of the same scene sends nothing."""
    writer = MetadataWriter(proxied)
    wanted = {"title": "東京", "genre": BIG_TAGS, "actor": CAST}
    first = writer.push(rk, section_id, wanted, {}, None, "fp1")
    assert [status for status, _ in emu.proxy.refused] == [414] * 3  # the whole, then 32000, 16000
    assert writer.request_limit.line_bytes == 8000 and emu.proxy.longest_line > NGINX_REQUEST_LINE_BYTES
    item = emu.item(rk)
    genres, cast = item.tags["genre"], item.tags["actor"]
    assert genres == BIG_TAGS[:len(genres)] and first.record.left_out["genre"] == BIG_TAGS[len(genres):]
    assert cast == CAST[:len(cast)] and first.record.left_out["actor"] == CAST[len(cast):]
    assert 0 < len(item.tags["actor"]) < len(CAST) and item.fields["title"] == "東京"
    assert len(actor_puts(emu)) == 1  # after the refusals: one request for the whole (cut) cast
    assert first.record.snapshot["actor"] == item.tags["actor"] and first.record.cut_at == {"genre": 8000,
                                                                                          "actor": 8000}
    assert [note.split(":")[0] for note in first.cuts] == [
        f"Plex got {len(item.tags['genre'])} of 100 tags", f"Plex got {len(item.tags['actor'])} of 200 performers"]
    assert "left out: " + ", ".join(CAST[len(item.tags["actor"]):][:20]) + " and " in first.cuts[1]

    emu.reset_requests()
    refused = len(emu.proxy.refused)
    again = writer.push(rk, section_id, wanted, {}, first.record, "fp1")
    assert again.requests == 0 and emu.count() == 0 and again.cuts == first.cuts  # still said, never re-sent
    grown = writer.push(rk, section_id, {**wanted, "title": "新"}, {}, again.record, "fp2")
    assert grown.wrote_fields == ["title"] and emu.count("PUT") == 1 and len(emu.proxy.refused) == refused
    assert emu.item(rk).tags["actor"] == item.tags["actor"]


def test_a_cut_list_is_tried_whole_again_once_the_limit_is_unknown(emu: PlexEmulator, proxied: PlexClient, rk: int,
                                                                   section_id: int) -> None:
    """The user raised the proxy's limit, and the learned one was forgotten: the next push of the scene sends
    the whole list, and the record no longer holds a cut."""
    first = MetadataWriter(proxied).push(rk, section_id, {"actor": CAST}, {}, None, "fp1")
    assert first.record.left_out["actor"]
    emu.proxy.request_line_bytes = 64 * 1024
    again = MetadataWriter(proxied).push(rk, section_id, {"actor": CAST}, {}, first.record, "fp1")
    assert emu.item(rk).tags["actor"] == CAST and again.record.left_out == {} and again.cuts == []


def test_a_refusal_that_is_not_about_size_teaches_nothing(emu: PlexEmulator, client: PlexClient, rk: int,
                                                          section_id: int) -> None:
    from plex.errors import PlexRejected

    writer = MetadataWriter(client)
    emu.fail(r"/library/sections/\d+/all", 400, times=None, method="PUT")
    with pytest.raises(PlexRejected):
        writer.push(rk, section_id, {"title": "short"}, {}, None, "fp1")
    assert writer.request_limit.line_bytes is None and emu.count("PUT") == 1
    with pytest.raises(PlexRejected):  # long: every step is tried, then the limit is what it was
        writer.push(rk, section_id, {"actor": CAST}, {}, None, "fp1")
    assert writer.request_limit.line_bytes is None and emu.count("PUT") == 1 + 3  # ~11 KB, 8000, 4000


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
