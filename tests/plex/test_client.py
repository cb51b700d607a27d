"""PlexClient through real plexapi against the Plex emulator: what it sends, what it counts, how it fails."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from plexapi import utils

from emulators.plex.server import PlexEmulator
from plex import client as plex_client
from plex.client import PlexClient
from plex.errors import PlexAuthError, PlexConfigError, PlexItemGone, PlexRejected, PlexUnavailable
from tests.plex.conftest import TOKEN, make_client


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_construction_makes_no_request(emu: PlexEmulator, tmp_path: Path) -> None:
    client = make_client(emu.url, tmp_path)
    assert client.request_count == 0 and emu.count() == 0


def test_probe_reports_identity_and_counts_requests(emu: PlexEmulator, client: PlexClient) -> None:
    identity = client.probe()
    assert identity["machineIdentifier"] == emu.machine_identifier and identity["version"]
    assert [(r.method, r.path) for r in emu.requests] == [("GET", "/"), ("GET", "/identity")]
    assert client.request_count == 2
    client.probe()
    assert client.request_count == emu.count() == 3  # the server object is built once


def test_both_timeouts_reach_requests(client: PlexClient) -> None:
    assert client.server._timeout == (2.0, 5.0)


def test_tls_verification_setting_is_honoured(emu: PlexEmulator, tmp_path: Path, monkeypatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    assert make_client(emu.url, tmp_path, verify_tls=False).session.verify is False
    assert make_client(emu.url, tmp_path).session.verify is True


def test_verify_tls_off_wins_over_a_ca_bundle_in_the_environment_and_stays_quiet(emu, tmp_path, monkeypatch):
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "corporate-ca.pem"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("before", InsecureRequestWarning)
        off = make_client(emu.url, tmp_path, verify_tls=False).session
        warnings.warn("after", InsecureRequestWarning)  # what urllib3 does on every unverified request
    assert off.merge_environment_settings("https://plex:32400/", {}, None, None, None)["verify"] is False
    assert [str(w.message) for w in caught if w.category is InsecureRequestWarning] == ["before"]
    on = make_client("https://plex.example:32400", tmp_path).session
    assert on.merge_environment_settings("https://plex:32400/", {}, None, None, None)["verify"] == \
        str(tmp_path / "corporate-ca.pem")  # verify_tls on: the user's CA bundle is honoured
    assert make_client(emu.url, tmp_path).session.verify is True  # plain HTTP: no bundle, no stat() per call


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def test_without_a_proxy_requests_skips_its_per_call_environment_lookups(emu, tmp_path, monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    netrc = tmp_path / "netrc"  # requests would read this on every call and send its password to Plex
    netrc.write_text("machine 127.0.0.1 login someone password not-for-plex\n", encoding="utf-8")
    monkeypatch.setenv("NETRC", str(netrc))
    client = make_client(emu.url, tmp_path)
    client.probe()
    assert client.session.trust_env is False
    assert [r.headers.get("authorization") for r in emu.requests] == [None, None]


def test_a_configured_proxy_keeps_the_environment_in_use(emu, tmp_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert make_client(emu.url, tmp_path).session.trust_env is True


def test_movie_sections_by_name_case_insensitive(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    other = emu.add_section(title="Other Videos", locations=["/data/other", "/data/more"])
    emu.add_section(title="Shows", locations=["/tv"], type="show")
    sections = client.movie_sections(["other videos", "STASH"])
    assert [(s.id, s.title) for s in sections] == [(other, "Other Videos"), (section_id, "Stash")]
    assert sections[0].locations == ["/data/other", "/data/more"]


def test_no_names_means_every_movie_library(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    other = emu.add_section(title="Other", locations=["/o"])
    emu.add_section(title="Shows", locations=["/tv"], type="show")
    assert sorted(s.id for s in client.movie_sections([])) == sorted([section_id, other])


def test_missing_library_names_itself_and_what_exists(emu: PlexEmulator, client: PlexClient) -> None:
    emu.add_section(title="Shows", locations=["/tv"], type="show")
    with pytest.raises(PlexConfigError) as caught:
        client.movie_sections(["Stash", "Nope", "Shows"])
    message = str(caught.value)
    assert "Nope" in message and "Shows" in message and "Stash (movie)" in message


def test_fetch_detail_is_one_get_with_full_tags_and_no_auto_reload(emu: PlexEmulator, client: PlexClient,
                                                                    section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=10, title="A")
    emu.set_tags(rk, "genre", ["g1", "g2", "g3", "g4", "g5"])
    emu.set_tags(rk, "actor", ["p1", "p2", "p3", "p4"])
    client.probe()
    emu.reset_requests()
    item = client.fetch_detail(rk)
    assert [tag.tag for tag in item.genres] == ["g1", "g2", "g3", "g4", "g5"]  # list views would truncate to 2
    assert len(item.roles) == 4
    assert item.tagline is None and item.writers == []  # empty attributes: no hidden reload
    assert [(r.method, r.path) for r in emu.requests] == [("GET", f"/library/metadata/{rk}")]


def test_put_edits_is_one_put_encoded_like_plexapi(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=10, title="old")
    client.probe()
    emu.reset_requests()
    params = {"title.value": "Café & 東京 a+b", "title.locked": 1, "genre[0].tag.tag": "A, B", "genre.locked": 1}
    client.put_edits(section_id, rk, params)
    assert emu.count() == 1 and emu.writes() == 1
    request = emu.requests[0]
    assert (request.method, request.path) == ("PUT", f"/library/sections/{section_id}/all")
    expected = parse_qsl(utils.joinArgs({**params, "type": 1, "id": rk})[1:], keep_blank_values=True)
    assert request.query == expected
    item = emu.item(rk)
    assert item.fields["title"] == "Café & 東京 a+b" and item.tags["genre"] == ["A, B"]
    assert {"title", "genre"} <= item.locks


def test_upload_image_is_one_post_of_the_bytes(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=10, title="a")
    data = b"\x89PNG fake image bytes"
    client.upload_image(rk, "poster", data)
    client.upload_image(rk, "art", data + b"!")
    posts = [r for r in emu.requests if r.method == "POST"]
    assert [(r.path, r.body) for r in posts] == [(f"/library/metadata/{rk}/posters", data),
                                                 (f"/library/metadata/{rk}/arts", data + b"!")]
    assert emu.item(rk).posters == [f"upload://posters/{hashlib.sha1(data).hexdigest()}"]
    with pytest.raises(ValueError):
        client.upload_image(rk, "logo", data)


def test_scan_folder_asks_plex_to_scan_that_path(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    folder = "/data/stash/New Folder/été"
    emu.add_pending_file(section_id, f"{folder}/new.mp4", size=5)
    client.scan_folder(section_id, folder)
    assert emu.scan_requests == [(section_id, folder)]
    assert [item.file for item in emu.library.items_in(section_id)] == [f"{folder}/new.mp4"]


# -- failures ---------------------------------------------------------------------------------------------


def test_wrong_token_is_an_auth_error_without_retry_or_token_in_text(emu: PlexEmulator, section_id: int,
                                                                    tmp_path: Path) -> None:
    client = make_client(emu.url, tmp_path, token="wrong-token-value")
    with pytest.raises(PlexAuthError) as caught:
        client.movie_sections([])
    assert client.request_count == 1
    assert "wrong-token-value" not in str(caught.value) and TOKEN not in str(caught.value)


def test_plex_down_is_unavailable_and_fails_fast(tmp_path: Path) -> None:
    client = make_client(f"http://127.0.0.1:{closed_port()}", tmp_path, connect_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(PlexUnavailable):
        client.probe()
    # A refused connect fails at once (Windows takes ~2 s to give up on loopback): all three attempts together
    # take less than one connect timeout, so none waited it out.
    assert time.monotonic() - started < 30.0
    assert client.request_count == 3  # tried three times (the test policy), each attempt counted


def test_default_retry_policy_is_short_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(plex_client, "_log_retry", lambda state: sleeps.append(state.upcoming_sleep))
    client = PlexClient(f"http://127.0.0.1:{closed_port()}", TOKEN, data_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(PlexUnavailable):
        client.probe()
    assert client.request_count == len(sleeps) + 1 <= 3 and all(0 <= sleep <= 2.0 for sleep in sleeps)
    # No attempt starts after 8 s and each gives up within the 5 s connect timeout, however slow the platform's
    # refused connect is.
    assert time.monotonic() - started < 8.0 + 5.0


def test_emulator_going_down_mid_session(emu: PlexEmulator, client: PlexClient) -> None:
    client.probe()
    emu.go_down()
    try:
        with pytest.raises(PlexUnavailable) as caught:
            client.probe()
        assert TOKEN not in str(caught.value)
    finally:
        emu.come_up()
    assert client.probe()["machineIdentifier"] == emu.machine_identifier


def test_unknown_rating_key_is_item_gone(client: PlexClient) -> None:
    with pytest.raises(PlexItemGone) as caught:
        client.fetch_detail(424242)
    assert client.request_count == 2  # GET / and the one 404: never retried
    assert TOKEN not in str(caught.value)


def test_transient_5xx_is_retried_in_call(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.fail(r"^/library/sections$", 503, times=1)
    assert [s.id for s in client.movie_sections([])] == [section_id]
    assert emu.count(path_prefix="/library/sections") == 2


def test_persistent_5xx_gives_up_as_unavailable(emu: PlexEmulator, client: PlexClient) -> None:
    emu.fail(r"^/library/sections$", 500, times=None)
    with pytest.raises(PlexUnavailable):
        client.movie_sections([])
    assert emu.count(path_prefix="/library/sections") == 3


def test_a_dropped_connection_is_retried(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    emu.drop(r"^/library/sections$", times=1)
    assert [s.id for s in client.movie_sections([])] == [section_id]


def test_other_4xx_is_rejected_once(emu: PlexEmulator, client: PlexClient, section_id: int) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="a")
    emu.fail(r"/all$", 400, times=None, method="PUT")
    with pytest.raises(PlexRejected) as caught:
        client.put_edits(section_id, rk, {"title.value": "private title text", "title.locked": 1})
    assert caught.value.status == 400
    assert emu.count("PUT") == 1
    assert "private title text" not in str(caught.value) and "private%20title" not in str(caught.value)


def test_unknown_status_from_a_proxy_is_unavailable(emu: PlexEmulator, client: PlexClient) -> None:
    emu.fail(r"^/identity$", 520, times=None)
    with pytest.raises(PlexUnavailable):
        client.probe()


def test_a_slow_answer_times_out_after_the_read_timeout(emu: PlexEmulator, section_id: int, tmp_path: Path) -> None:
    client = make_client(emu.url, tmp_path, attempts=1, read_timeout=0.5)
    client.probe()
    emu.delay(r"^/library/sections$", 3.0, times=1)
    started = time.monotonic()
    with pytest.raises(PlexUnavailable) as caught:
        client.movie_sections([])
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.0
    assert "did not answer in time" in str(caught.value)


def test_an_upload_that_times_out_is_sent_once(emu: PlexEmulator, section_id: int, tmp_path: Path) -> None:
    """A read timeout shorter than the retry bound must not re-send a POST Plex may already have taken."""
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=10, title="a")
    client = make_client(emu.url, tmp_path, attempts=3, read_timeout=0.3)
    client.probe()
    emu.delay(r"/posters$", 1.0, times=None, method="POST")
    with pytest.raises(PlexUnavailable):
        client.upload_image(rk, "poster", b"\xff\xd8\xff poster")
    assert emu.count("POST") == 1


def test_an_edit_put_that_times_out_is_retried(emu: PlexEmulator, section_id: int, tmp_path: Path) -> None:
    rk = emu.add_item(section_id, file="/data/stash/a.mp4", size=10, title="a")
    client = make_client(emu.url, tmp_path, attempts=3, read_timeout=0.3)
    client.probe()
    emu.delay(r"/all$", 1.0, times=1, method="PUT")
    client.put_edits(section_id, rk, {"title.value": "t", "title.locked": 1})  # setting a value twice is harmless
    assert emu.count("PUT") == 2 and emu.item(rk).fields["title"] == "t"


class _LoginPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<!DOCTYPE html><html><body><form>Sign in to the proxy</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_proxy_login_page_is_a_config_error(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = make_client(f"http://127.0.0.1:{server.server_address[1]}", tmp_path)
        with pytest.raises(PlexConfigError) as caught:
            client.probe()
        assert "Plex URL" in str(caught.value)
        assert client.request_count == 1  # not retried
    finally:
        server.shutdown()
        server.server_close()
