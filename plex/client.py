"""The one way PlexSync talks to Plex: plexapi's ``PlexServer`` over one keep-alive ``requests.Session``.

Both timeouts really apply: plexapi hands its ``timeout`` to requests unchanged (constructor and every
``query``), so a ``(connect, read)`` tuple bounds the connect and each read separately. Short in-call
retries (tenacity) cover a blip of a second or two; anything longer is the queue's backoff. Every exception
leaves through ``plex.errors.classify``. Every HTTP request sent is counted, failed ones included.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import quote_plus, urlsplit
from urllib.request import getproxies
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from plex.device_identity import apply_identity, load_or_create_identifier
from plex.errors import PlexConfigError, PlexItemGone, PlexSyncError, PlexUnavailable, classify, explain_answer
from validation.settings.names import mention, where_to_set
from validation.stash_log import get_logger, quiet_insecure_warnings, register_secret

T = TypeVar("T")
MOVIE_TYPE = 1
IMAGE_ENDPOINTS = {"poster": "posters", "art": "arts"}
NON_IDEMPOTENT = {"post"}  # an edit PUT sets values (sending it twice is harmless); an upload adds an image
# Two retries within a few seconds: enough for a dropped keep-alive connection or a PMS hiccup. The bound does
# not stop a retry after a short read timeout, so only idempotent requests are retried in-call (``call``).
DEFAULT_RETRY_STOP = stop_after_attempt(3) | stop_before_delay(8.0)
DEFAULT_RETRY_WAIT = wait_random_exponential(multiplier=0.5, max=2.0)
IN_CALL_RETRY_AFTER_MAX_S = 2.0

log = get_logger("plex.client")


@dataclass(frozen=True)
class SectionInfo:
    id: int
    title: str
    locations: list[str] = field(default_factory=list)


class CountingSession(requests.Session):
    """A session that counts every request it sends (redirects and failed attempts included)."""

    def __init__(self, verify_tls: bool = True, *, url: str = "") -> None:
        super().__init__()
        # With trust_env on, requests looks up proxies, ~/.netrc and CA-bundle variables on EVERY call (~16
        # stat() calls per synced scene). Plex takes a token, so netrc never applies; the lookups stay only
        # when a proxy is configured (environment variables, or the system's settings on Windows/macOS).
        self.trust_env = bool(getproxies())
        self.verify = verify_tls
        if verify_tls and not self.trust_env and url.lower().startswith("https:"):
            # What requests would read on each call, read once: the user's CA bundle stays honoured. (Over
            # plain HTTP it is never used, and a path here costs requests a stat() per call.)
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.sent = 0
        self._count_lock = threading.Lock()  # the worker pushes several items at once
        self._last = threading.local()
        self._fastest: float | None = None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._count_lock:
            self.sent += 1
        self._last.response = None
        started = time.perf_counter()
        response = super().send(request, **kwargs)
        elapsed = time.perf_counter() - started
        with self._count_lock:
            self._fastest = elapsed if self._fastest is None else min(self._fastest, elapsed)
        self._last.response = response  # per thread: what answered, when the answer is not Plex XML
        return response

    def take_fastest_round_trip(self) -> float | None:
        """The quickest answer (seconds) since the last call: Plex's own latency, free of the waits for the
        GIL that slower answers include when several pushes run at once. None when nothing was answered."""
        with self._count_lock:
            fastest, self._fastest = self._fastest, None
        return fastest

    def last_response(self) -> requests.Response | None:
        """This thread's last HTTP answer: how a failure that plexapi reports only as text really looked."""
        return getattr(self._last, "response", None)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        """``verify_tls = false`` must win over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, which requests
        otherwise lets override the session (a self-signed Plex would fail every request)."""
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is False:
            settings["verify"] = False
        return settings


class PlexClient:
    """A Plex server, counted and classified. Construction makes no request; the first use connects."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        data_dir: str | os.PathLike[str],
        verify_tls: bool = True,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry_wait: wait_base | None = None,
        retry_stop: stop_base | None = None,
    ) -> None:
        register_secret(token)
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.session = CountingSession(verify_tls, url=self.url)
        if not verify_tls:
            quiet_insecure_warnings()
            log.debug("TLS certificate checks for Plex are off (%s)", mention("skip_tls_verify"))
        self._retry_wait = retry_wait if retry_wait is not None else DEFAULT_RETRY_WAIT
        self._retry_stop = retry_stop if retry_stop is not None else DEFAULT_RETRY_STOP
        self._server: Any = None
        apply_identity(load_or_create_identifier(data_dir))

    @property
    def request_count(self) -> int:
        return self.session.sent

    # -- plumbing ------------------------------------------------------------------------------------

    def call(self, action: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run one Plex interaction: transient failures retried briefly, everything else classified.

        A non-idempotent request (a POST upload) is never retried in-call: after a read timeout or a dropped
        answer Plex may already have taken it, and sending it again would add a second poster."""
        retrying = Retrying(
            retry=retry_if_exception(_worth_retrying_now),
            stop=self._retry_stop if idempotent else stop_after_attempt(1),
            wait=self._retry_wait,
            before_sleep=_log_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    return action()
                except PlexSyncError:
                    raise
                except ElementTree.ParseError as exc:
                    raise self._not_plex(exc) from None
                except Exception as exc:  # the cause's text carries URLs with edit values: never chained
                    raise explain_answer(classify(exc), self.session.last_response()) from None
        raise AssertionError("unreachable")  # pragma: no cover - tenacity either returns or reraises

    def _not_plex(self, exc: ElementTree.ParseError) -> PlexSyncError:
        """The URL answered, but not with Plex XML: say what answered when it can be told."""
        response = self.session.last_response()
        kind = what_answered(response) if response is not None else None
        if kind == "stash":
            return PlexConfigError(f"{mention('plex_url')} ({self.url}) is Stash's address, not Plex's: Stash "
                                   "answered. Use your Plex server's address, usually port 32400, e.g. "
                                   "http://192.168.1.10:32400")
        return explain_answer(classify(exc), response)

    def _connect(self) -> Any:
        problem = web_app_url_problem(self.url)
        if problem is not None:
            raise PlexConfigError(problem)
        if self._server is None:
            from plexapi.server import PlexServer

            self._server = PlexServer(self.url, self._token, session=self.session, timeout=self.timeout)
        return self._server

    @property
    def server(self) -> Any:
        """plexapi's ``PlexServer`` (built on first use: one ``GET /``)."""
        return self.call(self._connect)

    def query(self, key: str, method: str = "get", *, container: bool = False, **kwargs: Any) -> Element | None:
        """One raw request through plexapi (its headers, its status handling), parsed XML back.

        ``container``: Plex always answers this one with a MediaContainer, so an empty body is Plex (or a
        proxy) cut short, retried like any blip (a scan request, by contrast, answers with nothing)."""
        verb = getattr(self.session, method)

        def ask() -> Element | None:
            root = self._connect().query(key, method=verb, timeout=self.timeout, **kwargs)
            if root is None and container:
                raise PlexUnavailable(f"Plex answered {key.split('?')[0]} with an empty body")
            return root

        return self.call(ask, idempotent=method.lower() not in NON_IDEMPOTENT)

    # -- what PlexSync asks of Plex ------------------------------------------------------------------

    def probe(self) -> dict[str, str]:
        """Is Plex there and does it take the token (``GET /`` on first use), then ``GET /identity``."""
        root = self.query("/identity", container=True)
        attrs = root.attrib if root is not None else {}
        return {"machineIdentifier": attrs.get("machineIdentifier", ""), "version": attrs.get("version", "")}

    def movie_sections(self, names: Sequence[str] = ()) -> list[SectionInfo]:
        """Libraries by name (case-insensitive), or every movie-type library when no names are given."""
        root = self.query("/library/sections", container=True)
        directories = [d for d in (root if root is not None else []) if d.tag == "Directory"]
        movies = [_section_info(d) for d in directories if d.attrib.get("type") == "movie"]
        if not names:
            if not movies:
                raise PlexConfigError("Plex has no movie-type library to sync into")
            return movies
        by_title = {section.title.casefold(): section for section in movies}
        wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        missing = [name for name in wanted if name.casefold() not in by_title]
        if missing:
            known = ", ".join(f"{d.attrib.get('title', '')} ({d.attrib.get('type', '?')})" for d in directories)
            raise PlexConfigError(f"Plex library not found (or not a movie library): {', '.join(missing)}; "
                                  f"libraries on this server: {known or 'none'}; check {where_to_set('plex_library')}")
        return [by_title[name.casefold()] for name in wanted]

    def fetch_detail(self, rating_key: int) -> Any:
        """The full item (list views truncate tags) in one GET, as a plexapi object that never auto-reloads."""
        item = self.call(lambda: self._connect().fetchItem(int(rating_key)))
        item._autoReload = False
        return item

    def fetch_details(self, rating_keys: Sequence[int]) -> dict[int, Any]:
        """Several full items in one GET ``/library/metadata/1,2,3`` (the detail view, tags complete), by
        ratingKey; a key Plex no longer has is simply absent from the answer."""
        keys = sorted({int(key) for key in rating_keys})
        if not keys:
            return {}
        items = self.call(lambda: self._connect().fetchItems(keys, container_size=len(keys)))
        found = {}
        for item in items:
            item._autoReload = False
            found[int(item.ratingKey)] = item
        return found

    def put_edits(self, section_id: int, rating_key: int, params: dict[str, Any]) -> None:
        """Exactly one PUT ``/library/sections/{sid}/all?id=<rk>&type=1&…``, encoded by plexapi's joinArgs.

        ``id`` is always set: a section edit without it would change every movie in the library."""
        self.query(_edit_key(section_id, rating_key, params), method="put")

    def edit_request_line_bytes(self, section_id: int, rating_key: int, params: dict[str, Any]) -> int:
        """The size of the request line ``put_edits`` would send (``PUT <path?query> HTTP/1.1``), measured on
        the URL exactly as requests encodes it (a proxy in front of Plex limits this line)."""
        url = requests.Request("PUT", self.url + _edit_key(section_id, rating_key, params)).prepare().path_url
        return len(f"PUT {url} HTTP/1.1".encode("ascii", "replace"))

    def upload_image(self, rating_key: int, kind: str, data: bytes) -> None:
        """One POST of the image bytes, never re-sent in-call (Plex selects and locks an uploaded poster/art)."""
        if kind not in IMAGE_ENDPOINTS:
            raise ValueError(f"image kind must be one of {sorted(IMAGE_ENDPOINTS)}, not {kind!r}")
        self.query(f"/library/metadata/{int(rating_key)}/{IMAGE_ENDPOINTS[kind]}", method="post", data=data)

    def scan_folder(self, section_id: int, folder: str) -> None:
        """Ask Plex to scan one folder (as Plex sees it) so a new file gets an item sooner (asynchronous)."""
        self.query(f"/library/sections/{int(section_id)}/refresh?path={quote_plus(folder)}")


def web_app_url_problem(url: str) -> str | None:
    """A URL copied from the browser (``…:32400/web/index.html#!/…``) is Plex's web app, not the server root
    the API lives at (every API path would be looked up under ``/web``)."""
    parts = urlsplit(url)
    if "web" not in [segment.lower() for segment in parts.path.split("/")]:
        return None
    root = f"{parts.scheme or 'http'}://{parts.netloc or 'host:32400'}"
    return (f"{mention('plex_url')} ({url}) is the address of Plex's web app, not of the server: use {root} "
            "(just scheme, host and port)")


def what_answered(response: requests.Response) -> str | None:
    """'stash' when the answer is Stash's web UI or its GraphQL endpoint, else None. Stash serves its UI's
    index.html (``<title>Stash</title>``) for any path without an extension (internal/api/server.go)."""
    head = response.text[:4096].lower() if response.content else ""
    if "<title>stash</title>" in head or ('"errors"' in head and "graphql" in head):
        return "stash"
    return None


def _edit_key(section_id: int, rating_key: int, params: dict[str, Any]) -> str:
    from plexapi import utils

    args = {**params, "type": MOVIE_TYPE, "id": int(rating_key)}
    return f"/library/sections/{int(section_id)}/all{utils.joinArgs(args)}"


def _section_info(directory: Element) -> SectionInfo:
    return SectionInfo(int(directory.attrib["key"]), directory.attrib.get("title", ""),
                       [location.attrib.get("path", "") for location in directory.iter("Location")])


def _worth_retrying_now(exc: BaseException) -> bool:
    """A blip is retried in-call; not when Plex said to come back later (``Retry-After`` beyond the bound)."""
    if not isinstance(exc, PlexUnavailable):
        return False
    return exc.retry_after_s is None or exc.retry_after_s <= IN_CALL_RETRY_AFTER_MAX_S


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.debug("Plex hiccup (attempt %d): %s; retrying", state.attempt_number, error)
