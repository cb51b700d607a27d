"""MetadataWriter against the emulator: request counts by counting, exact tag sets, locks, user collections."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from emulators.plex.proxy import ProxyLimits
from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from plex.errors import PlexItemGone
from plex.metadata_writer import ImageSource, MetadataWriter, PushRecord
from validation import limits
from validation.config import load_config
from validation.metadata import build_metadata

WANTED = {
    "title": "Scene A",
    "summary": "Line one\n\n  Line two",
    "tagline": "A tagline",
    "originallyAvailableAt": "2021-05-04",
    "year": 2021,
    "studio": "Acme & Co",
    "userRating": 8.0,
    "director": ["Dir One"],
    "genre": ["g1", "A & B", "Comma, Name", "Ünïcødé"],
    "actor": ["P One", "P Two", "P Three", "P Four"],
    "collection": ["Acme & Co"],
}
SCALAR_FIELDS = {"title", "summary", "tagline", "originallyAvailableAt", "year", "studio", "userRating"}


def jpeg(payload: bytes) -> bytes:
    """Bytes that start like a JPEG (the writer checks the magic bytes before uploading)."""
    return b"\xff\xd8\xff\xe0" + payload


class Images:
    """Image sources whose fetches are counted (a fetch is a Stash download, not a Plex request)."""

    def __init__(self) -> None:
        self.fetches: list[str] = []

    def source(self, url: str, data: bytes) -> ImageSource:
        def fetch() -> bytes:
            self.fetches.append(url)
            return data

        return ImageSource(url, fetch)


@pytest.fixture()
def rk(emu: PlexEmulator, section_id: int) -> int:
    return emu.add_item(section_id, file="/data/stash/a.mp4", size=123, title="a")


@pytest.fixture()
def writer(client: PlexClient, emu: PlexEmulator) -> MetadataWriter:
    client.probe()  # connect once, so counts below are the push's own
    emu.reset_requests()
    return MetadataWriter(client)


def first_push(writer: MetadataWriter, rk: int, section_id: int, wanted=WANTED, images=None) -> PushRecord:
    return writer.push(rk, section_id, wanted, images or {}, None, "fp1").record


def test_new_item_is_one_read_one_put_and_one_post_per_image(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                            section_id: int) -> None:
    images = Images()
    poster, art = jpeg(b"poster-bytes"), jpeg(b"art-bytes")
    result = writer.push(rk, section_id, WANTED, {"poster": images.source("http://s/p?1", poster),
                                                  "art": images.source("http://s/a?1", art)}, None, "fp1")
    assert [(r.method, r.path) for r in emu.requests] == [
        ("GET", f"/library/metadata/{rk}"), ("POST", f"/library/metadata/{rk}/posters"),
        ("POST", f"/library/metadata/{rk}/arts"), ("PUT", f"/library/sections/{section_id}/all")]
    assert result.requests == 4
    assert sorted(result.wrote_fields) == sorted(WANTED)
    assert result.uploaded == ["poster", "art"]
    item = emu.item(rk)
    assert item.fields["title"] == "Scene A" and item.fields["summary"] == "Line one\n\n  Line two"
    assert item.fields["studio"] == "Acme & Co" and item.fields["year"] == "2021"
    assert item.fields["originallyAvailableAt"] == "2021-05-04" and float(item.fields["userRating"]) == 8.0
    assert item.tags["genre"] == ["g1", "A & B", "Comma, Name", "Ünïcødé"]
    assert item.tags["actor"] == ["P One", "P Two", "P Three", "P Four"]
    assert item.tags["director"] == ["Dir One"] and item.tags["collection"] == ["Acme & Co"]
    assert set(WANTED) | {"thumb", "art"} <= item.locks
    assert item.posters == [f"upload://posters/{hashlib.sha1(poster).hexdigest()}"]
    assert result.record.image_hashes == {"poster": hashlib.sha1(poster).hexdigest(),
                                          "art": hashlib.sha1(art).hexdigest()}
    assert result.record.added_collections == ["Acme & Co"]
    assert result.record.rating_key == rk and result.record.fingerprint == "fp1"


def test_image_locks_ride_in_the_edit_put_after_the_upload(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                           section_id: int) -> None:
    emu.library.lock_on_upload = False  # so only our own lock can lock it
    writer.push(rk, section_id, {"title": "x"}, {"poster": Images().source("u", jpeg(b"p"))}, None, "fp")
    assert [r.method for r in emu.requests] == ["GET", "POST", "PUT"]
    put = emu.requests[-1]
    assert put.param("thumb.locked") == "1" and put.param("art.locked") is None
    assert "thumb" in emu.item(rk).locks


def test_an_image_only_push_still_locks_the_image(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                  section_id: int) -> None:
    emu.library.lock_on_upload = False
    record = first_push(writer, rk, section_id, {"title": "t"})
    emu.reset_requests()
    result = writer.push(rk, section_id, {"title": "t"}, {"art": Images().source("u", jpeg(b"a"))}, record, "fp2")
    assert [r.method for r in emu.requests] == ["POST", "PUT"] and result.requests == 2
    sent = {key for key, _ in emu.requests[-1].query}
    assert sent == {"id", "type", "art.locked"}
    assert "art" in emu.item(rk).locks and result.wrote_fields == []


def test_unchanged_is_zero_requests(emu: PlexEmulator, writer: MetadataWriter, rk: int, section_id: int) -> None:
    images = Images()
    sources = {"poster": images.source("http://s/p?1", jpeg(b"p"))}
    record = writer.push(rk, section_id, WANTED, sources, None, "fp1").record
    emu.reset_requests()
    result = writer.push(rk, section_id, dict(WANTED), sources, PushRecord.from_json(record.to_json()), "fp1")
    assert result.requests == 0 and emu.count() == 0
    assert result.wrote_fields == [] and result.uploaded == []
    assert images.fetches == ["http://s/p?1"]  # same URL: not even downloaded again


def test_one_field_edit_is_exactly_one_put(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                           section_id: int) -> None:
    record = first_push(writer, rk, section_id)
    emu.reset_requests()
    result = writer.push(rk, section_id, {**WANTED, "title": "New title"}, {}, record, "fp2")
    assert result.requests == 1 and [r.method for r in emu.requests] == ["PUT"]
    sent = {key for key, _ in emu.requests[0].query}
    assert sent == {"id", "type", "title.value", "title.locked"}
    assert emu.item(rk).fields["title"] == "New title" and result.wrote_fields == ["title"]
    assert result.record.snapshot["title"] == "New title"


def test_removed_tags_and_performers_disappear(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                               section_id: int) -> None:
    record = first_push(writer, rk, section_id)
    emu.reset_requests()
    wanted = {**WANTED, "genre": ["g1", "Ünïcødé"], "actor": ["P One", "P Three", "New Person"]}
    result = writer.push(rk, section_id, wanted, {}, record, "fp2")
    assert result.requests == 1 and emu.count("GET") == 0
    item = emu.item(rk)
    assert item.tags["genre"] == ["g1", "Ünïcødé"]
    assert item.tags["actor"] == ["P One", "P Three", "New Person"]
    assert {"genre", "actor"} <= item.locks


def test_an_empty_list_clears_the_tag_type(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                           section_id: int) -> None:
    record = first_push(writer, rk, section_id)
    result = writer.push(rk, section_id, {**WANTED, "genre": [], "director": []}, {}, record, "fp2")
    item = emu.item(rk)
    assert item.tags["genre"] == [] and item.tags["director"] == []
    assert {"genre", "director"} <= item.locks
    assert result.record.snapshot["genre"] == []


def test_a_cleared_scalar_is_emptied_and_locked(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                section_id: int) -> None:
    record = first_push(writer, rk, section_id)
    writer.push(rk, section_id, {**WANTED, "tagline": None, "studio": ""}, {}, record, "fp2")
    item = emu.item(rk)
    assert "tagline" not in item.fields and "studio" not in item.fields
    assert {"tagline", "studio"} <= item.locks


def test_a_date_edit_locks_year_and_date_together(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                  section_id: int) -> None:
    writer.push(rk, section_id, {"originallyAvailableAt": "2020-01-02"}, {}, None, "fp")
    assert {"year", "originallyAvailableAt"} <= emu.item(rk).locks
    assert emu.item(rk).fields["originallyAvailableAt"] == "2020-01-02"


ALREADY_RIGHT = {"title": "Same", "year": 2021, "userRating": 8, "genre": ["z", "x", "y"]}


def _already_right(emu: PlexEmulator, section_id: int, locks: set[str]) -> int:
    rk = emu.add_item(section_id, file="/data/stash/b.mp4", size=1, title="Same", year="2021", userRating="8.0")
    emu.set_tags(rk, "genre", ["x", "y", "z"])
    emu.item(rk).locks.update(locks)
    return rk


def test_first_push_with_plex_already_right_and_locked_writes_nothing(emu: PlexEmulator, writer: MetadataWriter,
                                                                      section_id: int) -> None:
    rk = _already_right(emu, section_id, {"title", "year", "originallyAvailableAt", "userRating", "genre"})
    result = writer.push(rk, section_id, ALREADY_RIGHT, {}, None, "fp")
    assert result.requests == 1 and emu.writes() == 0  # just the read
    assert result.record.snapshot["genre"] == ["z", "x", "y"]


def test_a_right_value_that_is_not_locked_gets_its_lock(emu: PlexEmulator, writer: MetadataWriter,
                                                        section_id: int) -> None:
    rk = _already_right(emu, section_id, {"title", "year"})
    result = writer.push(rk, section_id, ALREADY_RIGHT, {}, None, "fp")
    assert [r.method for r in emu.requests] == ["GET", "PUT"] and result.requests == 2
    sent = {key for key, _ in emu.requests[-1].query}  # locks only: no value is re-sent
    assert sent == {"id", "type", "originallyAvailableAt.locked", "userRating.locked", "genre.locked"}
    assert {"title", "year", "originallyAvailableAt", "userRating", "genre"} <= emu.item(rk).locks
    assert result.wrote_fields == [] and emu.item(rk).tags["genre"] == ["x", "y", "z"]


def test_a_changed_value_and_a_missing_lock_share_one_put(emu: PlexEmulator, writer: MetadataWriter,
                                                          section_id: int) -> None:
    rk = _already_right(emu, section_id, set())
    result = writer.push(rk, section_id, {**ALREADY_RIGHT, "title": "New"}, {}, None, "fp")
    assert [r.method for r in emu.requests] == ["GET", "PUT"] and result.wrote_fields == ["title"]
    assert {"title", "year", "originallyAvailableAt", "userRating", "genre"} <= emu.item(rk).locks


def test_a_case_only_rename_takes_effect_although_plex_reuses_spellings(emu: PlexEmulator, writer: MetadataWriter,
                                                                       rk: int, section_id: int) -> None:
    """Plex would give "outdoor" the spelling of the "Outdoor" tag the item still carries: the old spelling is
    removed in a PUT of its own before the list is sent."""
    record = first_push(writer, rk, section_id, {"genre": ["Outdoor", "Beach"]})
    emu.reset_requests()
    result = writer.push(rk, section_id, {"genre": ["outdoor"]}, {}, record, "fp2")
    first, second = emu.requests
    assert first.param("genre[].tag.tag-") == "Outdoor" and first.param("genre[0].tag.tag") is None
    assert second.param("genre[].tag.tag-") is None and second.param("genre[0].tag.tag") == "outdoor"
    assert emu.item(rk).tags["genre"] == ["outdoor"] and result.record.snapshot["genre"] == ["outdoor"]


def test_a_spelling_plex_reused_is_not_a_difference(emu: PlexEmulator, client: PlexClient, rk: int,
                                                    section_id: int) -> None:
    """Another item carries "Action": Plex keeps that spelling for ours. Neither a read-back nor
    preserve_plex_edits takes it for a change: nothing is rewritten, and the list does not freeze."""
    other = emu.add_item(section_id, file="/data/stash/other.mp4", size=1, title="other")
    emu.set_tags(other, "genre", ["Action"])
    writer = MetadataWriter(client, preserve_plex_edits=True)
    record = first_push(writer, rk, section_id, {"genre": ["action", "Drama"]})
    assert emu.item(rk).tags["genre"] == ["Action", "Drama"]
    emu.reset_requests()
    again = writer.push(rk, section_id, {"genre": ["action", "Drama"]}, {}, record, "fp1")
    assert again.requests == 0
    changed = writer.push(rk, section_id, {"title": "t", "genre": ["action", "Drama"]}, {}, record, "fp2")
    assert changed.wrote_fields == ["title"] and [r.method for r in emu.requests] == ["GET", "PUT"]
    assert emu.item(rk).tags["genre"] == ["Action", "Drama"]
    grown = writer.push(rk, section_id, {"genre": ["action", "Drama", "Comedy"]}, {}, changed.record, "fp3")
    assert grown.wrote_fields == ["genre"] and emu.item(rk).tags["genre"] == ["Action", "Drama", "Comedy"]


def test_the_users_own_collections_survive(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                           section_id: int) -> None:
    emu.set_tags(rk, "collection", ["My Favourites"])
    record = first_push(writer, rk, section_id, {"collection": ["Acme"]})
    assert emu.item(rk).tags["collection"] == ["My Favourites", "Acme"]
    assert record.added_collections == ["Acme"]

    emu.reset_requests()
    record = writer.push(rk, section_id, {"collection": ["Studio B"]}, {}, record, "fp2").record
    assert [r.method for r in emu.requests] == ["GET", "PUT"]  # a collection change reads Plex first
    assert emu.item(rk).tags["collection"] == ["My Favourites", "Studio B"]
    assert record.added_collections == ["Studio B"]

    emu.set_tags(rk, "collection", ["My Favourites", "Studio B", "Made Later"])  # the user adds another
    writer.push(rk, section_id, {"collection": []}, {}, record, "fp3")
    assert emu.item(rk).tags["collection"] == ["My Favourites", "Made Later"]


def test_a_collection_the_user_already_had_is_not_ours_to_remove(emu: PlexEmulator, writer: MetadataWriter,
                                                                 rk: int, section_id: int) -> None:
    emu.set_tags(rk, "collection", ["Acme"])
    record = first_push(writer, rk, section_id, {"collection": ["Acme"]})
    assert record.added_collections == []
    assert {key for key, _ in emu.requests[-1].query} == {"id", "type", "collection.locked"}  # only its lock
    writer.push(rk, section_id, {"collection": []}, {}, record, "fp2")
    assert emu.item(rk).tags["collection"] == ["Acme"]


def test_unchanged_collections_need_no_read(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                            section_id: int) -> None:
    emu.set_tags(rk, "collection", ["Mine"])
    record = first_push(writer, rk, section_id, {"collection": ["Acme"], "title": "t"})
    emu.reset_requests()
    writer.push(rk, section_id, {"collection": ["Acme"], "title": "t2"}, {}, record, "fp2")
    assert [r.method for r in emu.requests] == ["PUT"]
    assert emu.item(rk).tags["collection"] == ["Mine", "Acme"]


def test_preserve_plex_edits_leaves_fields_edited_in_plex(emu: PlexEmulator, client: PlexClient, rk: int,
                                                          section_id: int) -> None:
    writer = MetadataWriter(client, preserve_plex_edits=True)
    record = first_push(writer, rk, section_id, {"title": "Ours", "summary": "S1"})
    emu.set_field(rk, "title", "Theirs")
    emu.reset_requests()
    result = writer.push(rk, section_id, {"title": "Ours v2", "summary": "S2"}, {}, record, "fp2")
    assert [r.method for r in emu.requests] == ["GET", "PUT"]
    assert emu.item(rk).fields["title"] == "Theirs" and emu.item(rk).fields["summary"] == "S2"
    assert result.wrote_fields == ["summary"]
    assert result.record.snapshot["title"] == "Ours"  # still what we wrote: left alone next time too

    emu.reset_requests()
    writer.push(rk, section_id, {"title": "Ours", "summary": "S2"}, {}, result.record, "fp3")
    assert emu.count() == 0  # nothing to write → nothing read either


def test_without_preserve_a_plex_edit_is_overwritten_on_the_next_read(emu: PlexEmulator, writer: MetadataWriter,
                                                                      rk: int, section_id: int) -> None:
    emu.set_field(rk, "title", "Edited in Plex")
    first_push(writer, rk, section_id, {"title": "Stash title"})
    assert emu.item(rk).fields["title"] == "Stash title"


def test_images_upload_only_when_the_bytes_change(emu: PlexEmulator, writer: MetadataWriter, rk: int,
                                                  section_id: int) -> None:
    images = Images()
    record = writer.push(rk, section_id, {}, {"poster": images.source("u1", jpeg(b"one"))}, None, "fp").record
    emu.reset_requests()
    same_bytes = writer.push(rk, section_id, {}, {"poster": images.source("u2", jpeg(b"one"))}, record, "fp")
    assert same_bytes.requests == 0 and same_bytes.record.image_urls["poster"] == "u2"
    changed = writer.push(rk, section_id, {}, {"poster": images.source("u3", jpeg(b"two"))}, same_bytes.record, "fp")
    assert changed.uploaded == ["poster"] and changed.requests == 2  # the upload and its lock
    assert [r.method for r in emu.requests] == ["POST", "PUT"]
    assert emu.item(rk).posters[-1] == f"upload://posters/{hashlib.sha1(jpeg(b'two')).hexdigest()}"
    assert images.fetches == ["u1", "u2", "u3"]


def test_a_vanished_item_is_item_gone(writer: MetadataWriter, section_id: int) -> None:
    with pytest.raises(PlexItemGone):
        writer.push(987654, section_id, {"title": "x"}, {}, None, "fp")


def test_unknown_fields_are_refused(writer: MetadataWriter, rk: int, section_id: int) -> None:
    with pytest.raises(ValueError, match="originalTitle"):
        writer.push(rk, section_id, {"originalTitle": "XXX"}, {}, None, "fp")


def test_push_record_round_trips_through_json(writer: MetadataWriter, rk: int, section_id: int) -> None:
    record = writer.push(rk, section_id, WANTED, {"poster": Images().source("u", jpeg(b"p"))}, None, "fp").record
    assert PushRecord.from_json(record.to_json()) == record
    assert PushRecord.from_json('{"fingerprint": "old"}') == PushRecord("old")


def _scene_past_every_cap(seed: str) -> dict:
    """A Stash scene past every one-line and summary cap in CJK text (9 bytes a character once percent-encoded;
    15 in a removal), with as many ordinary tags as the default ``max_tags`` keeps and a big cast."""
    return {"id": "7", "files": [{"path": "/data/stash/a.mp4"}], "date": "2021-05-04", "rating100": 85,
            "title": seed + "題" * 999, "code": seed + "码" * 999, "director": seed + "导" * 999,
            "details": (seed + "東" * 59 + "\n\n") * 1000,
            "studio": {"name": seed + "社" * 999, "parent_studio": {"name": seed + "母" * 999}},
            "performers": [{"name": f"{seed} Performer Name {i}"} for i in range(60)],
            "tags": [{"name": f"{seed} Tag Category {i}"} for i in range(150)]}


def test_the_worst_case_edit_fits_a_proxy_in_a_few_puts(emu: PlexEmulator, client: PlexClient,
                                                      writer: MetadataWriter, rk: int, section_id: int) -> None:
    """Every one-line value and the summary at their caps, both lists replaced, behind nginx: once the first
    edit taught the limit, every request line stays within what nginx takes, every value arrives whole, and
    each list arrives whole or as the longest start of it that fits one request."""
    emu.proxy = ProxyLimits()
    config = load_config({"plex_url": emu.url, "plex_token": "t"})[0]
    record = first_push(writer, rk, section_id, build_metadata(_scene_past_every_cap("甲"), config).plex_fields())
    assert writer.request_limit.line_bytes == limits.REQUEST_LINE_BYTES
    emu.reset_requests()
    refused, emu.proxy.longest_line = len(emu.proxy.refused), 0
    wanted = build_metadata(_scene_past_every_cap("乙"), config).plex_fields()
    result = writer.push(rk, section_id, wanted, {}, record, "fp2")  # every value new, every old tag replaced
    assert len(emu.proxy.refused) == refused and emu.proxy.longest_line <= limits.REQUEST_LINE_BYTES + 2
    assert 2 < emu.count("PUT") < 10 and result.notes == []
    item = emu.item(rk)
    assert item.fields["summary"] == wanted["summary"] and item.fields["title"] == wanted["title"]
    for tag_type in ("actor", "genre"):
        assert item.tags[tag_type] + result.record.left_out.get(tag_type, []) == wanted[tag_type]