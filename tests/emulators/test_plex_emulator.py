"""Fidelity of the Plex emulator: the real, unmodified plexapi 4.18.3 talks to it over HTTP.

Every test drives plexapi (or requests, for the raw wire) and checks both what plexapi sees and the
emulator's own state, so a drift from PMS's behaviour as plexapi uses it fails here first.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import plexapi
import pytest
import requests
from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.library import MovieSection
from plexapi.server import PlexServer
from plexapi.video import Movie

from emulators.plex.server import PlexEmulator
from tests.emulators.conftest import TOKEN


def _fill(emu: PlexEmulator, section_id: int, count: int) -> list[int]:
    return [emu.add_item(section_id, f"/data/stash/clip{i:04d}.mp4", 1000 + i, f"Clip {i:04d}",
                         added_stamp=1_700_000_000 + i) for i in range(count)]


def test_connects_with_one_request_and_exposes_identity(emu: PlexEmulator, plex: PlexServer) -> None:
    assert plex.machineIdentifier == emu.machine_identifier
    assert [(r.method, r.path) for r in emu.requests] == [("GET", "/")]
    assert plex.query("/identity").attrib["machineIdentifier"] == emu.machine_identifier


def test_wrong_or_missing_token_is_unauthorized_and_still_recorded(emu: PlexEmulator, section_id: int) -> None:
    with pytest.raises(Unauthorized):
        PlexServer(emu.url, "wrong-token", timeout=5)
    answer = requests.get(f"{emu.url}/library/sections", timeout=5)
    assert answer.status_code == 401 and b"Unauthorized" in answer.content
    assert requests.get(f"{emu.url}/library/sections?X-Plex-Token={TOKEN}", timeout=5).status_code == 200
    assert emu.count("GET") == 3


def test_responses_declare_utf8_xml_with_content_length(emu: PlexEmulator, section_id: int) -> None:
    answer = requests.get(f"{emu.url}/library/sections", headers={"X-Plex-Token": TOKEN}, timeout=5)
    assert answer.headers["Content-Type"] == "text/xml;charset=utf-8"
    assert int(answer.headers["Content-Length"]) == len(answer.content)


def test_section_is_a_movie_section_with_its_locations(plex: PlexServer) -> None:
    section = plex.library.section("stash")
    assert isinstance(section, MovieSection)
    assert section.locations == ["/data/stash"]


def test_all_pages_through_a_big_section_with_paging_headers(emu: PlexEmulator, plex: PlexServer,
                                                              section_id: int) -> None:
    _fill(emu, section_id, 260)
    section = plex.library.section("Stash")
    emu.reset_requests()
    movies = section.all()
    assert len(movies) == 260 and len({m.ratingKey for m in movies}) == 260
    assert all(isinstance(m, Movie) and m.librarySectionID == section_id for m in movies)
    pages = [r for r in emu.requests if r.path == f"/library/sections/{section_id}/all"]
    assert [r.headers["X-Plex-Container-Start"] for r in pages] == ["0", "100", "200"]
    assert all(r.param("type") == "1" for r in pages)


def test_search_by_title_is_case_insensitive_contains_and_keeps_non_ascii(emu: PlexEmulator, plex: PlexServer,
                                                                         section_id: int) -> None:
    _fill(emu, section_id, 3)
    wanted = emu.add_item(section_id, "/data/stash/cafe.mp4", 5, "Café 東京 Night")
    found = plex.library.section("Stash").search(title="café 東京")
    assert [(m.ratingKey, m.title) for m in found] == [(wanted, "Café 東京 Night")]
    assert found[0].locations == ["/data/stash/cafe.mp4"]


def test_fetch_item_and_unknown_ids(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 123, "A", studio="Acme")
    movie = plex.fetchItem(rk)
    assert isinstance(movie, Movie) and movie.studio == "Acme"
    assert movie.media[0].parts[0].size == 123
    with pytest.raises(NotFound):
        plex.fetchItem(rk + 999)
    with pytest.raises(NotFound):
        plex.query("/no/such/route")


def test_list_views_truncate_tags_while_detail_shows_all(emu: PlexEmulator, plex: PlexServer,
                                                         section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.set_tags(rk, "genre", ["G1", "G2", "G3", "G4"])
    emu.set_tags(rk, "actor", ["P1", "P2", "P3", "P4", "P5"])
    emu.set_tags(rk, "director", ["D1", "D2"])
    emu.set_tags(rk, "collection", ["C1", "C2", "C3"])
    listed = plex.library.section("Stash").all()[0]
    assert [t.tag for t in listed.genres] == ["G1", "G2"]
    assert [t.tag for t in listed.roles] == ["P1", "P2", "P3"]
    assert [t.tag for t in listed.directors] == ["D1"]
    assert [t.tag for t in listed.collections] == ["C1", "C2", "C3"]
    listed.reload()
    assert [t.tag for t in listed.genres] == ["G1", "G2", "G3", "G4"]
    assert [t.tag for t in listed.roles] == ["P1", "P2", "P3", "P4", "P5"]
    assert listed.genres[0].id and listed.genres[0].filter == f"genre={listed.genres[0].id}"


def test_untruncated_emulator_lists_every_tag(section_id: int) -> None:
    with PlexEmulator(token=TOKEN, truncate_list_tags=False) as emu:
        sid = emu.add_section("Stash", ["/data/stash"])
        rk = emu.add_item(sid, "/data/stash/a.mp4", 1, "A")
        emu.set_tags(rk, "genre", ["G1", "G2", "G3"])
        listed = PlexServer(emu.url, TOKEN, timeout=5).library.section("Stash").all()[0]
        assert [t.tag for t in listed.genres] == ["G1", "G2", "G3"]


def test_batch_edits_are_one_put_that_round_trips_with_locks(emu: PlexEmulator, plex: PlexServer,
                                                            section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "Old")
    movie = plex.fetchItem(rk)
    emu.reset_requests()
    movie.batchEdits()
    movie.editTitle("Nouveau « titre »").editSummary("Line 1\nLine 2 & more").editStudio("Studio Ω")
    movie.editOriginallyAvailable(date(2021, 5, 4)).editUserRating(8.5)
    movie.edit(**{"year.value": 2021, "year.locked": 1})
    movie.saveEdits()
    writes = [r for r in emu.requests if r.method != "GET"]  # the GETs are plexapi loading the section once
    assert [(r.method, r.path) for r in writes] == [("PUT", f"/library/sections/{section_id}/all")]
    assert writes[0].param("id") == str(rk) and emu.writes() == 1
    movie.reload()
    assert (movie.title, movie.summary, movie.studio) == ("Nouveau « titre »", "Line 1\nLine 2 & more", "Studio Ω")
    assert movie.originallyAvailableAt == datetime(2021, 5, 4) and movie.year == 2021
    assert movie.userRating == 8.5
    assert all(movie.isLocked(name) for name in ("title", "summary", "studio", "originallyAvailableAt", "year"))
    assert not movie.isLocked("tagline")
    state = emu.item(rk)
    assert state.fields["title"] == "Nouveau « titre »" and {"title", "year", "userRating"} <= state.locks


def test_unlocking_and_clearing_a_field(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A", tagline="Once")
    movie = plex.fetchItem(rk)
    movie.editTagline("Twice")
    movie.editTagline(None, locked=False)
    movie.reload()
    assert movie.tagline is None and not movie.isLocked("tagline")
    assert "tagline" not in emu.item(rk).fields


def test_genres_with_ampersand_comma_and_non_ascii_add_and_remove(emu: PlexEmulator, plex: PlexServer,
                                                                  section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.set_tags(rk, "genre", ["Kept"])
    movie = plex.fetchItem(rk)
    movie.reload()
    movie.addGenre(["Café 東京", "A & B", "x,y"])
    assert emu.item(rk).tags["genre"] == ["Kept", "Café 東京", "A & B", "x,y"]
    movie.reload()
    assert [g.tag for g in movie.genres] == ["Kept", "Café 東京", "A & B", "x,y"] and movie.isLocked("genre")
    movie.removeGenre(["A & B", "x,y", "Café 東京"])
    assert emu.item(rk).tags["genre"] == ["Kept"]
    movie.reload()
    assert [g.tag for g in movie.genres] == ["Kept"]


def test_clearing_a_tag_type_then_replacing_in_one_request(emu: PlexEmulator, plex: PlexServer,
                                                           section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.set_tags(rk, "label", ["old1", "old2"])
    plex.fetchItem(rk).edit(**{"label[].tag": "", "label[0].tag.tag": "new"})
    assert emu.item(rk).tags["label"] == ["new"]
    plex.fetchItem(rk).edit(**{"label[].tag": ""})
    assert emu.item(rk).tags["label"] == []


def test_actor_list_is_replaced_with_roles_and_photos(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.set_tags(rk, "actor", ["Old Actor"])
    movie = plex.fetchItem(rk)
    movie.edit(**{"actor[0].tag.tag": "Zoë", "actor[0].tagging.text": "Lead",
                  "actor[0].tag.thumb": "http://img.example/z.jpg", "actor[1].tag.tag": "B & C", "actor.locked": 1})
    movie.reload()
    assert [(r.tag, r.role, r.thumb) for r in movie.roles] == [
        ("Zoë", "Lead", "http://img.example/z.jpg"), ("B & C", None, None)]
    assert movie.isLocked("actor") and emu.item(rk).tags["actor"] == ["Zoë", "B & C"]


def test_section_edit_without_id_applies_to_every_item(emu: PlexEmulator, plex: PlexServer,
                                                       section_id: int) -> None:
    keys = _fill(emu, section_id, 3)
    plex.query(f"/library/sections/{section_id}/all?type=1&studio.value=Everyone", method=plex._session.put)
    assert {emu.item(rk).fields["studio"] for rk in keys} == {"Everyone"}


def test_metadata_put_and_multi_fetch(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _fill(emu, section_id, 2)
    ids = ",".join(map(str, keys))
    plex.query(f"/library/metadata/{ids}?contentRating.value=XXX&contentRating.locked=1", method=plex._session.put)
    fetched = plex.fetchItems(keys)
    assert [m.contentRating for m in fetched] == ["XXX", "XXX"] and fetched[1].isLocked("contentRating")


def test_collections_are_created_on_first_use(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _fill(emu, section_id, 2)
    for rk in keys:
        plex.fetchItem(rk).addCollection("Studio Acme")
    section = plex.library.section("Stash")
    collections = section.collections()
    assert [c.title for c in collections] == ["Studio Acme"]
    assert sorted(m.ratingKey for m in collections[0].items()) == keys
    plex.fetchItem(keys[0]).removeCollection("Studio Acme")
    assert [c.childCount for c in section.collections()] == [1]


def test_user_edits_in_plex_are_visible_to_plexapi(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    before = emu.item(rk).updated_stamp
    emu.set_field(rk, "summary", "typed in Plex")
    emu.set_tags(rk, "genre", ["Hand-picked"])
    movie = plex.fetchItem(rk)
    movie.reload()
    assert movie.summary == "typed in Plex" and [g.tag for g in movie.genres] == ["Hand-picked"]
    assert emu.item(rk).updated_stamp > before


@pytest.mark.parametrize("lock_on_upload", [True, False])  # off: a client must send thumb.locked itself
def test_poster_upload_is_selected_and_locked_unless_switched_off(emu: PlexEmulator, plex: PlexServer,
                                                                  section_id: int, lock_on_upload: bool) -> None:
    emu.library.lock_on_upload = lock_on_upload
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    image = b"\x89PNG fake image bytes"
    movie = plex.fetchItem(rk)
    emu.reset_requests()
    movie.uploadPoster(filepath=image)
    upload = emu.requests[0]
    assert (upload.method, upload.path, upload.body) == ("POST", f"/library/metadata/{rk}/posters", image)
    expected = f"upload://posters/{hashlib.sha1(image).hexdigest()}"
    posters = movie.posters()
    assert [(p.ratingKey, p.selected) for p in posters] == [(expected, True)]
    state = emu.item(rk)
    assert state.selected_poster == expected and ("thumb" in state.locks) is lock_on_upload
    movie.reload()
    assert movie.thumb.startswith(f"/library/metadata/{rk}/thumb/") and movie.isLocked("thumb") is lock_on_upload


def test_art_upload_by_url_and_selecting_a_poster(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    movie = plex.fetchItem(rk)
    movie.uploadArt(url="http://img.example/art 1.jpg")
    assert [(a.ratingKey, a.selected) for a in movie.arts()] == [("http://img.example/art 1.jpg", True)]
    movie.uploadPoster(filepath=b"one")
    movie.uploadPoster(filepath=b"two")
    first = next(p for p in movie.posters() if p.ratingKey.endswith(hashlib.sha1(b"one").hexdigest()))
    movie.setPoster(first)
    assert emu.item(rk).selected_poster == first.ratingKey
    assert [p.selected for p in movie.posters()] == [True, False]


def test_rate_sets_and_clears_user_rating(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    movie = plex.fetchItem(rk)
    movie.rate(7)
    assert emu.item(rk).fields["userRating"] == "7" and movie.reload().userRating == 7.0
    movie.rate(None)
    assert "userRating" not in emu.item(rk).fields


def test_scan_of_a_folder_turns_pending_files_into_items(emu: PlexEmulator, plex: PlexServer,
                                                         section_id: int) -> None:
    emu.add_pending_file(section_id, "/data/stash/new dir/fresh.mp4", 42)
    emu.add_pending_file(section_id, "/data/stash/elsewhere/later.mp4", 43)
    section = plex.library.section("Stash")
    assert section.search(title="fresh") == []
    section.update(path="/data/stash/new dir")
    assert emu.scan_requests == [(section_id, "/data/stash/new dir")]
    found = section.search(title="fresh")
    assert [m.locations for m in found] == [["/data/stash/new dir/fresh.mp4"]]
    assert section.search(title="later") == []
    section.update()
    assert [m.title for m in section.search(title="later")] == ["later"]
    assert emu.scan_requests[-1] == (section_id, None)


def test_raw_incremental_filters_sort_and_file_match(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _fill(emu, section_id, 5)
    base = f"/library/sections/{section_id}/all?type=1"
    newer = plex.query(f"{base}&addedAt>>={1_700_000_003}")
    assert [int(v.attrib["ratingKey"]) for v in newer] == keys[3:] and newer.attrib["totalSize"] == "2"
    newest = plex.query(f"{base}&sort=addedAt:desc", headers={"X-Plex-Container-Size": "2"})
    assert [int(v.attrib["ratingKey"]) for v in newest] == keys[:-3:-1] and newest.attrib["totalSize"] == "5"
    by_file = plex.query(f"{base}&file=clip0002.mp4")
    assert [v.find("Media/Part").attrib["file"] for v in by_file] == ["/data/stash/clip0002.mp4"]
    emu.set_field(keys[0], "title", "edited")
    changed = plex.query(f"{base}&updatedAt>>={emu.item(keys[0]).updated_stamp}")
    assert int(changed[0].attrib["ratingKey"]) == keys[0]


def test_plexapi_filtered_and_sorted_searches(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    keys = _fill(emu, section_id, 4)
    emu.set_tags(keys[1], "genre", ["Drama"])
    section = plex.library.section("Stash")
    assert [m.ratingKey for m in section.search(genre="Drama")] == [keys[1]]
    assert [m.ratingKey for m in section.search(sort="addedAt:desc", maxresults=2)] == [keys[3], keys[2]]
    since = datetime.fromtimestamp(1_700_000_002)
    assert [m.ratingKey for m in section.search(filters={"addedAt>>": since})] == keys[2:]


def test_status_faults_raise_bad_request_then_clear(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.fail(r"^/library/metadata/\d+$", 500, times=1)
    with pytest.raises(BadRequest, match=r"^\(500\)"):
        plex.fetchItem(rk)
    assert plex.fetchItem(rk).title == "A"
    emu.fail("/library/sections/", 503, times=None, method="PUT")
    movie = plex.fetchItem(rk)
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"^\(503\)"):
            movie.editTitle("B")
    emu.clear_faults()
    movie.editTitle("B")
    assert emu.item(rk).fields["title"] == "B" and emu.count("PUT") == 3


def test_dropped_connection_is_a_connection_error(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.drop(r"/library/metadata/")
    with pytest.raises(requests.ConnectionError):
        plex.fetchItem(rk)
    assert plex.fetchItem(rk).title == "A"
    assert emu.count("GET", "/library/metadata/") == 2


def test_delay_beyond_the_client_timeout_is_a_read_timeout(emu: PlexEmulator, section_id: int) -> None:
    plex = PlexServer(emu.url, TOKEN, timeout=0.2)
    emu.delay("/library/sections", 0.6, times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        plex.library.sections()


def test_going_down_and_coming_back_on_the_same_port(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    assert plex.fetchItem(rk).title == "A"  # leaves a keep-alive connection in the pool
    url = emu.url
    emu.go_down()
    with pytest.raises(requests.ConnectionError):
        plex.fetchItem(rk)
    with pytest.raises(requests.ConnectionError):
        PlexServer(url, TOKEN, timeout=2)
    emu.come_up()
    assert emu.url == url and plex.fetchItem(rk).title == "A"


def test_client_identifier_is_recorded(emu: PlexEmulator, plex: PlexServer) -> None:
    assert emu.client_identifiers == {plexapi.BASE_HEADERS["X-Plex-Client-Identifier"]}
    requests.get(f"{emu.url}/identity", headers={"X-Plex-Token": TOKEN, "X-Plex-Client-Identifier": "other"},
                 timeout=5)
    assert "other" in emu.client_identifiers


def test_activities_and_write_counts(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    assert plex.query("/activities").attrib["size"] == "0"
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    plex.fetchItem(rk).analyze()
    plex.library.section("Stash").cancelUpdate()
    assert emu.writes() == 2 and emu.count("DELETE", "/library/sections/") == 1
    assert emu.scan_requests == []


def test_operator_variants_relative_dates_and_library_wide_search(emu: PlexEmulator, plex: PlexServer,
                                                                  section_id: int) -> None:
    keys = _fill(emu, section_id, 3)
    other = emu.add_section("Other", ["/data/other"])
    elsewhere = emu.add_item(other, "/data/other/clip9.mp4", 1, "Clip 0002 copy", originallyAvailableAt="2020-01-02")
    base = f"{emu.url}/library/sections/{section_id}/all"
    encoded_equals = requests.get(base, params={"type": 1, "addedAt>>=": 1_700_000_002},
                                  headers={"X-Plex-Token": TOKEN}, timeout=5)
    assert encoded_equals.text.count("<Video ") == 1
    assert [m.ratingKey for m in plex.library.section("Stash").search(filters={"title==": "clip 0001"})] == [keys[1]]
    emu.add_item(section_id, "/data/stash/new.mp4", 1, "New")  # added now
    assert plex.query(f"/library/sections/{section_id}/all?addedAt>>=-1d").attrib["size"] == "1"
    assert sorted(m.ratingKey for m in plex.library.search(title="clip 0002")) == [keys[2], elsewhere]
    released = plex.query(f"/library/sections/{other}/all?originallyAvailableAt<<=2021-01-01")
    assert [int(v.attrib["ratingKey"]) for v in released] == [elsewhere]


def test_edit_added_at_delete_poster_and_bad_requests(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    movie = plex.fetchItem(rk)
    movie.editAddedAt(datetime.fromtimestamp(1_600_000_000))
    assert emu.item(rk).added_stamp == 1_600_000_000 and movie.reload().isLocked("addedAt")
    movie.uploadPoster(filepath=b"img")
    movie.deletePoster()
    assert emu.item(rk).selected_poster is None and "thumb" not in emu.item(rk).fields
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        plex.query(f"/library/sections/{section_id}/all?type=2&id={rk}&title.value=x", method=plex._session.put)
    with pytest.raises(NotFound):
        plex.query(f"/library/sections/{section_id}/all?type=1&id=9999&title.value=x", method=plex._session.put)
    with pytest.raises(NotFound):
        plex.query("/library/sections/77/all")
    with pytest.raises(BadRequest, match=r"^\(400\)"):
        plex.query(f"/library/sections/{section_id}/all?addedAt>>=yesterday")
    with pytest.raises(NotFound):
        plex.query("/:/rate?key=abc&identifier=com.plexapp.plugins.library&rating=1", method=plex._session.put)


def test_collection_detail_and_library_wide_refresh(emu: PlexEmulator, plex: PlexServer, section_id: int) -> None:
    rk = emu.add_item(section_id, "/data/stash/a.mp4", 1, "A")
    emu.set_tags(rk, "collection", ["Series"])
    emu.add_pending_file(section_id, "/data/stash/b.mp4", 2)
    collection = plex.library.section("Stash").collection("Series")
    assert plex.fetchItem(collection.ratingKey).title == "Series" and collection.childCount == 1
    plex.library.update()
    assert emu.scan_requests == [(section_id, None)]
    assert [m.title for m in plex.library.section("Stash").search(title="b")] == ["b"]
