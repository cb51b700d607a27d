"""Every way a Plex server (or the reverse proxy in front of it) answers badly, through the real plexapi client
against the emulator, ends in the one error class that routes it right:

- PlexUnavailable: retry with backoff behind the breaker (never a dead letter);
- PlexConfigError: pause the queue with a message that says what to fix;
- PlexAuthError: pause until the token is fixed;
- PlexItemGone: forget the link and match again;
- PlexRejected: retried a few times, then a dead letter.
"""

from __future__ import annotations

import pytest

from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from plex.errors import PlexAuthError, PlexConfigError, PlexItemGone, PlexRejected, PlexUnavailable
from tests.plex.conftest import make_client

SECTIONS = r"^/library/sections$"
NGINX_502_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
                  b"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in - Authelia</title></head><body><form method=post "
              b"action=/api/firstfactor><input name=username></form></body></html>")
TRUNCATED_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="1"><Directory key="1" type="mo'
MALFORMED_XML = b'<?xml version="1.0"?><MediaContainer size="1"><Directory key="1"></MediaContainer>'


@pytest.fixture()
def fast_client(emu: PlexEmulator, section_id: int, tmp_path) -> PlexClient:
    return make_client(emu.url, tmp_path, attempts=1, connect_timeout=2.0, read_timeout=1.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520, 522])
def test_server_errors_and_proxy_statuses_are_outages(emu, fast_client, status):
    emu.fail(SECTIONS, status, times=None)
    with pytest.raises(PlexUnavailable):
        fast_client.movie_sections()


def test_429_without_retry_after_is_an_outage(emu, fast_client):
    emu.answer(SECTIONS, 429, b"Too Many Requests", "text/plain", times=None)
    with pytest.raises(PlexUnavailable) as caught:
        fast_client.movie_sections()
    assert caught.value.retry_after_s is None


def test_429_with_retry_after_says_how_long_plex_asked_us_to_wait(emu, fast_client):
    emu.answer(SECTIONS, 429, b"Too Many Requests", "text/plain", headers={"Retry-After": "120"}, times=None)
    with pytest.raises(PlexUnavailable) as caught:
        fast_client.movie_sections()
    assert caught.value.retry_after_s == 120


def test_an_html_error_page_with_200_is_not_plex_and_names_the_page(emu, fast_client):
    emu.answer(SECTIONS, 200, NGINX_502_PAGE, "text/html", times=None)
    with pytest.raises(PlexConfigError) as caught:
        fast_client.movie_sections()
    assert "502 Bad Gateway" in str(caught.value) and "Plex URL" in str(caught.value)


def test_a_proxy_login_page_pauses_with_its_title(emu, fast_client):
    emu.answer(SECTIONS, 200, LOGIN_PAGE, "text/html; charset=utf-8", times=None)
    with pytest.raises(PlexConfigError) as caught:
        fast_client.movie_sections()
    assert "Sign in - Authelia" in str(caught.value)


@pytest.mark.parametrize("body", [TRUNCATED_XML, MALFORMED_XML], ids=["truncated", "malformed"])
def test_broken_plex_xml_is_a_transient_outage_not_a_configuration_error(emu, fast_client, body):
    emu.answer(SECTIONS, 200, body, "text/xml;charset=utf-8", times=None)
    with pytest.raises(PlexUnavailable):
        fast_client.movie_sections()


def test_an_empty_body_where_plex_always_answers_xml_is_transient(emu, fast_client):
    emu.answer(SECTIONS, 200, b"", "text/xml;charset=utf-8", times=None)
    with pytest.raises(PlexUnavailable):
        fast_client.movie_sections()


def test_broken_xml_once_is_absorbed_by_the_in_call_retry(emu, section_id, tmp_path):
    client = make_client(emu.url, tmp_path, attempts=3)
    emu.answer(SECTIONS, 200, TRUNCATED_XML, "text/xml;charset=utf-8", times=1)
    assert [s.id for s in client.movie_sections()] == [section_id]


def test_a_connection_reset_mid_response_is_retried_in_call(emu, section_id, tmp_path):
    client = make_client(emu.url, tmp_path, attempts=3)
    client.probe()
    emu.reset_requests()
    emu.reset_mid_response(SECTIONS, times=1)
    assert [s.id for s in client.movie_sections()] == [section_id]
    assert emu.count("GET", "/library/sections") == 2


def test_a_connection_reset_that_persists_is_an_outage(emu, fast_client):
    emu.reset_mid_response(SECTIONS, times=None)
    with pytest.raises(PlexUnavailable):
        fast_client.movie_sections()


def test_a_read_timeout_is_an_outage(emu, fast_client):
    emu.delay(SECTIONS, 2.5, times=1)
    with pytest.raises(PlexUnavailable):
        fast_client.movie_sections()


def test_a_401_in_the_middle_of_a_run_is_an_auth_error(emu, fast_client, section_id):
    assert fast_client.movie_sections()
    emu.token = "rotated"
    with pytest.raises(PlexAuthError):
        fast_client.movie_sections()


def test_an_item_deleted_between_match_and_write_is_gone(emu, fast_client, section_id):
    key = emu.add_item(section_id, file="/data/stash/a.mp4", size=1, title="a")
    fast_client.fetch_detail(key)
    emu.library.remove_item(key)
    with pytest.raises(PlexItemGone):
        fast_client.fetch_detail(key)


def test_a_removed_library_is_a_configuration_error_naming_it(emu, fast_client, section_id):
    assert fast_client.movie_sections(["Stash"])
    emu.library.rename_section(section_id, "Stash (old)")
    with pytest.raises(PlexConfigError) as caught:
        fast_client.movie_sections(["Stash"])
    assert "Stash" in str(caught.value) and "Stash (old)" in str(caught.value)


def test_a_removed_library_is_a_configuration_error_naming_what_is_left(emu, fast_client, section_id):
    emu.add_section(title="Other", locations=["/data/other"], type="movie")
    assert [s.id for s in fast_client.movie_sections(["Stash"])] == [section_id]
    emu.library.remove_section(section_id)
    with pytest.raises(PlexConfigError) as caught:
        fast_client.movie_sections(["Stash"])
    assert "Stash" in str(caught.value) and "Other" in str(caught.value)


def test_a_plain_4xx_is_rejected_not_an_outage(emu, fast_client):
    emu.fail(SECTIONS, 400, times=None)
    with pytest.raises(PlexRejected):
        fast_client.movie_sections()
