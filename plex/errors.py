"""What went wrong talking to Plex, named after what happened; each class is one routing decision.

``classify`` turns anything plexapi / requests raise into one of these, once, at the client boundary.
Messages never carry the token or a query string (plexapi and urllib3 put the request URL, with the edit
values, into their messages).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from http import HTTPStatus
from typing import Sequence

import requests
from plexapi import exceptions as plex_exceptions

from validation.settings.names import mention, where_to_set
from validation.stash_log import redact

MAX_MESSAGE = 500
_STATUS = re.compile(r"^\((\d{3})\)")
# "http://host/path?query" in plexapi's messages, "with url: /path?query" in urllib3's.
_QUERY_STRING = re.compile(r"((?:https?://|(?<![\w/])/)[^\s?;()'\"]*)\?[^\s;()'\"]*")
_TRANSIENT_4XX = (408, 429)
_POOL_ADDRESS = re.compile(r"host='([^']+)', port=(\d+)")
_HOST_NOT_FOUND = ("failed to resolve", "name or service not known", "nodename nor servname",
                   "getaddrinfo failed", "temporary failure in name resolution", "no address associated")
_REFUSED = ("connection refused", "actively refused", "errno 111", "winerror 10061")
_PLAIN_HTTP_ANSWER = ("wrong version number", "wrong_version_number", "record layer failure",
                      "packet length too long", "unknown protocol")
_ORIGIN = re.compile(r"https?://[^/\s?;()'\"]+")


class PlexSyncError(Exception):
    """Base of every Plex-side failure PlexSync knows how to route."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_message(message))


class PlexAuthError(PlexSyncError):
    """Plex rejected the token (401): pause the whole queue; never dead-letter a job for this."""


class PlexUnavailable(PlexSyncError):
    """Plex did not answer properly (refused, reset, timeout, 5xx, 429, unknown status, cut-off XML): retry,
    count toward the breaker. ``retry_after_s`` is how long Plex asked us to wait (``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PlexItemGone(PlexSyncError):
    """404 for a ratingKey we hold: the item was deleted or re-added; forget the link and match again."""


class ItemNotInPlex(PlexSyncError):
    """No Plex item has this scene's file (yet): the slow lane, never an outage."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        shown = ", ".join(self.paths[:3]) or "(the scene has no file)"
        more = f" and {len(self.paths) - 3} more" if len(self.paths) > 3 else ""
        super().__init__(f"No Plex item has this file: {shown}{more}")


class AmbiguousMatch(PlexSyncError):
    """More than one Plex item could be this scene's file: skipped, candidates named."""

    def __init__(self, candidates: Sequence[tuple[int, str]]) -> None:
        self.candidates = [(int(key), str(file)) for key, file in candidates]
        named = "; ".join(f"ratingKey {key}: {file}" for key, file in self.candidates[:5])
        super().__init__(f"{len(self.candidates)} Plex items could be this scene: {named}")


class PlexRejected(PlexSyncError):
    """Plex refused this request (a 4xx other than 401/404), or something unexpected broke: retried a few
    times, then dead-lettered. Never counts as an outage."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ImageUnusable(PlexSyncError):
    """A cover cannot go to Plex (too large, or its source refused it): the item's fields sync without it."""


class PlexConfigError(PlexSyncError):
    """Not something a retry fixes: a named library is missing, or the URL answers with something not Plex."""


def clean_message(message: object) -> str:
    """No tokens, no query strings, bounded length."""
    text = redact(_QUERY_STRING.sub(r"\1", str(message))).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def status_of(exc: BaseException) -> int | None:
    """The HTTP status plexapi wrote at the start of its message: ``(503) service_unavailable; url body``."""
    match = _STATUS.match(str(exc))
    return int(match.group(1)) if match else None


def classify(exc: BaseException) -> PlexSyncError:
    """Map any exception from plexapi/requests to the one PlexSync error that says how to route it."""
    if isinstance(exc, PlexSyncError):
        return exc
    if isinstance(exc, plex_exceptions.Unauthorized):  # a subclass of BadRequest: check it first
        return token_rejected(exc)
    if isinstance(exc, plex_exceptions.NotFound):
        return PlexItemGone(f"Plex has no such item ({answer_text(exc, 404)}){_where(exc)}")
    if isinstance(exc, plex_exceptions.BadRequest):
        return _classify_status(exc, status_of(exc))
    if isinstance(exc, requests.exceptions.SSLError) and _plain_http_answered(exc):  # no retry fixes it
        where = _host_port(exc)
        return PlexConfigError(f"{mention('plex_url')} starts with https:// but the server at "
                               f"{where or 'that address'} speaks plain HTTP: use http://{where or 'host:32400'} in "
                               f"{mention('plex_url')}")
    if isinstance(exc, requests.exceptions.SSLError) and _certificate_rejected(exc):  # no retry fixes it
        return PlexConfigError(f"TLS verification of the Plex URL failed (check {mention('plex_url')}; for a "
                               f"self-signed certificate, {mention('skip_tls_verify')}): {exc}")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return PlexConfigError(f"The Plex URL is not usable (check {where_to_set('plex_url')}): {exc}")
    if isinstance(exc, requests.ConnectionError) and _any_in(exc, _HOST_NOT_FOUND):
        # Retried like an outage (DNS can be down for a moment too), but said so the user can fix a typo.
        host = _host_port(exc).rpartition(":")[0] or "the host"
        return PlexUnavailable(f"Host {host} was not found (DNS): check the host name in {mention('plex_url')}, or "
                               "use the server's IP address, e.g. http://192.168.1.10:32400")
    if isinstance(exc, requests.ConnectionError) and _any_in(exc, _REFUSED):
        where = _host_port(exc) or "that address"
        return PlexUnavailable(f"Nothing is listening at {where} (connection refused): Plex is not running, or "
                               f"{mention('plex_url')} has the wrong port (Plex listens on 32400 unless changed)")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        ConnectionError)):
        where = _host_port(exc)
        return PlexUnavailable(f"{_NO_ANSWER_WORDS.get(type(exc).__name__, 'Plex did not answer')}"
                               f"{f' at {where}' if where else ''}: {exc}")
    if isinstance(exc, ElementTree.ParseError):
        return PlexConfigError(f"The Plex URL answered with something that is not Plex XML ({exc}); "
                               f"check {where_to_set('plex_url')} (a proxy login page?)")
    if isinstance(exc, TypeError) and "NoneType" in str(exc) and "subscriptable" in str(exc):
        # plexapi looks the status up in requests' table; a status it does not know (520-524 from a proxy)
        # comes back as None and plexapi fails on it before raising its own error.
        return PlexUnavailable(f"Plex (or a proxy in front of it) answered with an unknown HTTP status: {exc}")
    return PlexRejected(f"Unexpected error talking to Plex ({type(exc).__name__}): {exc}")


_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_MAX_RETRY_AFTER_S = 3600.0
# What requests' exception classes mean, said without their names (the page and Queue Status show these).
_NO_ANSWER_WORDS = {
    "ConnectTimeout": "Plex did not accept a connection in time",
    "ReadTimeout": "Plex did not answer in time",
    "Timeout": "Plex did not answer in time",
    "ChunkedEncodingError": "Plex's answer was cut off",
    "ConnectionResetError": "The connection to Plex was dropped",
    "ConnectionAbortedError": "The connection to Plex was dropped",
    "ConnectionError": "Plex could not be reached",
}
# plexapi's message for a status it did not take: "(503) service_unavailable; http://host/path <html>…</html>"
_PLEXAPI_ANSWER = re.compile(r"^\((\d{3})\) [^;]*;\s*(\S*)\s?(.*)$", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
# Every Plex server answers its root (plexapi's first GET, "<plex_url>/") and /identity: a 404 there is another
# server, or a path in plex_url that leads nowhere; item URLs never end in "/".
_SERVER_PATHS = ("/", "/identity")


def explain_answer(error: PlexSyncError, response: requests.Response | None) -> PlexSyncError:
    """Sharpen ``error`` with what the last HTTP answer on this thread looked like.

    Plex always answers XML. A web page instead (a proxy's error or login page, often with 200) is a setting
    to fix, named by its title; XML that does not parse or an empty body is Plex or a proxy cut short, which
    the next try usually gets right. A ``Retry-After`` header says how long to stay away."""
    if response is None:
        return error
    if isinstance(error, PlexUnavailable) and error.retry_after_s is None:
        error.retry_after_s = _retry_after(response.headers.get("Retry-After"))
        return error
    if isinstance(error, PlexItemGone) and response.status_code == 404 and _path_of(response).endswith(_SERVER_PATHS):
        return PlexConfigError(f"The Plex URL answered 404 Not Found ({_body_kind(response)}) where every Plex "
                               f"server answers: that is not Plex. Check {where_to_set('plex_url')}: Plex's address "
                               "with its port, usually 32400, e.g. http://192.168.1.10:32400")
    if not (isinstance(error, PlexConfigError) and "not Plex XML" in str(error)):
        return error
    body = response.content[:65536]
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        title = _HTML_TITLE.search(body)
        shown = title.group(1).decode("utf-8", "replace").strip() if title else "untitled"
        return PlexConfigError(f"The Plex URL answered with a web page ({response.status_code}, \"{shown}\"), not "
                               "Plex: a proxy error or login page in front of Plex? "
                               f"Check {where_to_set('plex_url')}")
    return PlexUnavailable(f"Plex answered with XML that is cut off or broken ({response.status_code}, "
                           f"{len(response.content)} bytes); retrying")


def _path_of(response: requests.Response) -> str:
    from urllib.parse import urlsplit

    return urlsplit(response.url or "").path or "/"


def _body_kind(response: requests.Response) -> str:
    body = response.content[:4096].lstrip().lower()
    if not body:
        return "an empty answer"
    return "a web page" if body.startswith((b"<!doctype html", b"<html")) else "an answer that is not Plex XML"


def answer_text(exc: BaseException, status: int | None = None) -> str:
    """``400 Bad Request`` from plexapi's message, plus what the answer's page said when it says more
    (``413 Request Entity Too Large (nginx)``); never the page itself."""
    match = _PLEXAPI_ANSWER.match(str(exc))
    code = int(match.group(1)) if match else status
    if code is None:
        return "no status"
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "unknown status"
    said = _page_words(match.group(3)) if match else ""
    repeats = {"", str(code), phrase.lower(), f"{code} {phrase}".lower()}
    return f"{code} {phrase}" + (f": {said}" if said.lower() not in repeats and not said.startswith(str(code))
                                 else _server_name(match.group(3) if match else ""))


def _page_words(body: str) -> str:
    """The title (or, without one, the text) of an error page, unescaped, on one line, at most 120 chars."""
    title = re.search(r"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
    text = title.group(1) if title else _TAG.sub(" ", body)
    words = " ".join(html.unescape(text).split())
    return words if len(words) <= 120 else words[:119] + "…"


def _server_name(body: str) -> str:
    """nginx and Apache sign their error pages: say which server answered, when one did."""
    signed = re.search(r"<center>\s*(nginx|apache|caddy|openresty|cloudflare)[^<]*</center>|<address>\s*"
                       r"(apache|nginx)", body, re.IGNORECASE)
    return f" from {(signed.group(1) or signed.group(2)).lower()}" if signed else ""


def _where(exc: BaseException) -> str:
    origin = _ORIGIN.search(str(exc))
    return f" at {origin.group(0)}" if origin else ""


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (RFC 9110: delay-seconds or an HTTP date), bounded to an hour."""
    if not value:
        return None
    try:
        retry_after_s = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime
        from datetime import datetime, timezone

        try:
            retry_after_s = (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(0.0, retry_after_s), _MAX_RETRY_AFTER_S)


def token_rejected(exc: BaseException) -> PlexAuthError:
    """Said once, with where (plexapi's own text repeats the status and carries the URL and an HTML body)."""
    origin = _ORIGIN.search(str(exc))
    where = f" at {origin.group(0)}" if origin else ""
    return PlexAuthError(f"Plex rejected the token (401){where}: check {where_to_set('plex_token')}")


def _any_in(exc: BaseException, needles: Sequence[str]) -> bool:
    text = str(exc).lower()
    return any(needle in text for needle in needles)


def _host_port(exc: BaseException) -> str:
    """``host:port`` from urllib3's message (``HTTPConnectionPool(host='x', port=32400)``), or ''."""
    match = _POOL_ADDRESS.search(str(exc))
    return f"{match.group(1)}:{match.group(2)}" if match else ""


def _plain_http_answered(exc: BaseException) -> bool:
    """OpenSSL's words for a TLS hello answered by a plain-HTTP server (an HTTP 400 page, not a handshake)."""
    return _any_in(exc, _PLAIN_HTTP_ANSWER)


def _certificate_rejected(exc: BaseException) -> bool:
    """A certificate or host-name check failed (configuration), not a TLS session cut short while PMS
    restarts behind HTTPS (an EOF or reset: transient, like any dropped connection)."""
    text = str(exc).lower()
    return "certificate" in text or "hostname" in text or "host name" in text


def _classify_status(exc: BaseException, status: int | None) -> PlexSyncError:
    if status == 401:
        return token_rejected(exc)
    if status == 404:
        return PlexItemGone(f"Plex has no such item ({answer_text(exc)}){_where(exc)}")
    if status is not None and (status >= 500 or status in _TRANSIENT_4XX):
        return PlexUnavailable(f"Plex is unavailable ({answer_text(exc)}){_where(exc)}")
    if status is not None:
        return PlexRejected(f"Plex refused the request ({answer_text(exc)}){_where(exc)}", status)
    # A BadRequest plexapi raised on its own without any HTTP request (a bug of ours).
    return PlexRejected(f"Plex refused the request: {exc}", status)
