"""Wrong Plex URLs, through the real client over real sockets: each failure said in plain words with its fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from plex.errors import PlexAuthError, PlexConfigError, PlexUnavailable
from tests.plex.conftest import make_client
from validation import stash_log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_host_not_found_names_the_host_and_the_fix(tmp_path: Path) -> None:
    client = make_client("http://no-such-plex-host.invalid:32400", tmp_path, attempts=1)
    with pytest.raises(PlexUnavailable) as caught:
        client.probe()
    text = str(caught.value)
    assert "Host no-such-plex-host.invalid was not found" in text and "IP address" in text
    assert "Max retries" not in text and "HTTPConnectionPool" not in text


def test_nothing_listening_names_the_address_and_the_usual_port(tmp_path: Path) -> None:
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}", tmp_path, attempts=1)
    with pytest.raises(PlexUnavailable) as caught:
        client.probe()
    text = str(caught.value)
    assert f"Nothing is listening at 127.0.0.1:{port}" in text and "32400" in text


def test_https_to_a_plain_http_server_is_a_configuration_error_not_an_outage(emu: PlexEmulator,
                                                                             tmp_path: Path) -> None:
    address = emu.url.split("://", 1)[1]
    client = make_client(f"https://{address}", tmp_path)
    with pytest.raises(PlexConfigError) as caught:
        client.probe()
    assert f"use http://{address}" in str(caught.value)
    assert client.request_count == 1  # never retried: no retry fixes it


def test_the_web_app_address_is_refused_with_the_server_root_to_use(emu: PlexEmulator, tmp_path: Path) -> None:
    client = make_client(f"{emu.url}/web/index.html#!/media/abc", tmp_path)
    with pytest.raises(PlexConfigError) as caught:
        client.probe()
    assert f"use {emu.url} " in str(caught.value) and "web app" in str(caught.value)
    assert client.request_count == 0


def test_stash_port_given_as_plex_says_it_is_stash(tmp_path: Path) -> None:
    with StashEmulator() as stash:
        client = make_client(stash.url, tmp_path)
        with pytest.raises(PlexConfigError) as caught:
            client.probe()
    assert "is Stash's address, not Plex's" in str(caught.value) and "32400" in str(caught.value)
    assert client.request_count == 1


def test_the_401_message_says_it_once(emu: PlexEmulator, section_id: int, tmp_path: Path) -> None:
    client = make_client(emu.url, tmp_path, token="wrong-token-value")
    with pytest.raises(PlexAuthError) as caught:
        client.probe()
    assert str(caught.value).count("(401)") == 1 and "Plex token" in str(caught.value)


def test_redaction_leaves_status_codes_and_prose_alone() -> None:
    stash_log.register_secret("")
    stash_log.register_secret("401")  # a short (wrong) token must not mask ordinary digits
    text = "Plex rejected the token (401); check plex_token: (401) unauthorized"
    assert stash_log.redact(text) == text
    assert stash_log.redact("GET /identity?X-Plex-Token=abcdef123&x=1") == "GET /identity?X-Plex-Token=***&x=1"
    assert stash_log.redact("{'X-Plex-Token': 'abcdef123'}") == "{'X-Plex-Token': '***'}"
