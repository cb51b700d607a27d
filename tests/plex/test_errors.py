"""classify: every failure plexapi/requests can raise becomes the one PlexSync error that routes it."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest
import requests
from plexapi import exceptions as plex_exceptions

from plex.errors import (
    AmbiguousMatch,
    ItemNotInPlex,
    PlexAuthError,
    PlexConfigError,
    PlexItemGone,
    PlexRejected,
    PlexSyncError,
    PlexUnavailable,
    classify,
    clean_message,
    status_of,
)
from validation.stash_log import register_secret

URL = "http://plex.local:32400/library/sections/1/all?X-Plex-Token=tok-123&title.value=Secret%20Title"


def plexapi_message(status: int, reason: str) -> str:
    return f"({status}) {reason}; {URL} <html><body><h1>{status}</h1></body></html>"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (plex_exceptions.Unauthorized(plexapi_message(401, "unauthorized")), PlexAuthError),
        (plex_exceptions.NotFound(plexapi_message(404, "not_found")), PlexItemGone),
        (plex_exceptions.BadRequest(plexapi_message(500, "internal_server_error")), PlexUnavailable),
        (plex_exceptions.BadRequest(plexapi_message(503, "service_unavailable")), PlexUnavailable),
        (plex_exceptions.BadRequest(plexapi_message(429, "too_many_requests")), PlexUnavailable),
        (plex_exceptions.BadRequest(plexapi_message(408, "request_timeout")), PlexUnavailable),
        (plex_exceptions.BadRequest(plexapi_message(400, "bad_request")), PlexRejected),
        (plex_exceptions.BadRequest(plexapi_message(403, "forbidden")), PlexRejected),
        (plex_exceptions.BadRequest(plexapi_message(414, "request_uri_too_large")), PlexRejected),
        (plex_exceptions.BadRequest("Unknown filter field \"file\""), PlexRejected),  # client-side: a bug
        (requests.ConnectionError("Connection refused"), PlexUnavailable),
        (requests.exceptions.ConnectTimeout("connect timed out"), PlexUnavailable),
        (requests.exceptions.ReadTimeout("read timed out"), PlexUnavailable),
        (requests.exceptions.ChunkedEncodingError("connection reset mid-body"), PlexUnavailable),
        (ConnectionResetError(104, "Connection reset by peer"), PlexUnavailable),
        (TypeError("'NoneType' object is not subscriptable"), PlexUnavailable),  # status 520 from a proxy
        (requests.exceptions.SSLError("certificate verify failed"), PlexConfigError),
        (requests.exceptions.SSLError("hostname 'plex.local' doesn't match 'nas'"), PlexConfigError),
        (requests.exceptions.SSLError("EOF occurred in violation of protocol (_ssl.c:2427)"),
         PlexUnavailable),  # PMS restarting behind HTTPS cut the handshake short
        (requests.exceptions.MissingSchema("No scheme supplied"), PlexConfigError),
        (ElementTree.ParseError("syntax error: line 1, column 0"), PlexConfigError),
        (KeyError("ratingKey"), PlexRejected),  # unexpected: never counted as an outage
    ],
)
def test_classify_routes_each_failure(exc: BaseException, expected: type) -> None:
    result = classify(exc)
    assert type(result) is expected
    assert isinstance(result, PlexSyncError)


def test_unauthorized_is_caught_before_bad_request() -> None:
    assert issubclass(plex_exceptions.Unauthorized, plex_exceptions.BadRequest)
    assert isinstance(classify(plex_exceptions.Unauthorized(plexapi_message(401, "unauthorized"))), PlexAuthError)


def test_status_is_parsed_from_plexapi_message() -> None:
    rejected = classify(plex_exceptions.BadRequest(plexapi_message(409, "conflict")))
    assert isinstance(rejected, PlexRejected) and rejected.status == 409
    assert status_of(plex_exceptions.BadRequest(plexapi_message(502, "bad_gateway"))) == 502
    assert status_of(plex_exceptions.BadRequest("no status here")) is None


def test_a_bad_request_carrying_401_or_404_is_routed_by_status() -> None:
    assert isinstance(classify(plex_exceptions.BadRequest(plexapi_message(401, "x"))), PlexAuthError)
    assert isinstance(classify(plex_exceptions.BadRequest(plexapi_message(404, "x"))), PlexItemGone)


def test_an_already_classified_error_passes_through() -> None:
    error = PlexUnavailable("down")
    assert classify(error) is error


def test_messages_carry_neither_token_nor_query_string() -> None:
    for exc in (plex_exceptions.Unauthorized(plexapi_message(401, "unauthorized")),
                plex_exceptions.BadRequest(plexapi_message(400, "bad_request")),
                requests.ConnectionError("HTTPConnectionPool(host='plex.local', port=32400): Max retries exceeded "
                                         "with url: /library/metadata/5?X-Plex-Token=tok-123&a=1 (Caused by x)")):
        text = str(classify(exc))
        assert "tok-123" not in text
        assert "Secret" not in text and "a=1" not in text
        assert "plex.local" in text  # still says where


def test_registered_secret_is_redacted_anywhere() -> None:
    register_secret("s3cr3t-token-value")
    assert "s3cr3t-token-value" not in str(classify(RuntimeError("boom s3cr3t-token-value boom")))


def test_long_bodies_are_cut() -> None:
    text = clean_message("(500) x; " + "y" * 5000)
    assert len(text) <= 500


def test_not_in_plex_and_ambiguous_name_what_they_tried() -> None:
    missing = ItemNotInPlex(["/plex/a.mp4", "/plex/b.mp4"])
    assert missing.paths == ["/plex/a.mp4", "/plex/b.mp4"]
    assert "/plex/a.mp4" in str(missing) and "/plex/b.mp4" in str(missing)
    ambiguous = AmbiguousMatch([(11, "/plex/x/a.mp4"), (12, "/plex/y/a.mp4")])
    assert ambiguous.candidates == [(11, "/plex/x/a.mp4"), (12, "/plex/y/a.mp4")]
    assert "11" in str(ambiguous) and "/plex/y/a.mp4" in str(ambiguous)
