"""The one way PlexSync talks to Plex: plexapi's ``PlexServer`` over one keep-alive ``requests.Session``.

Both timeouts really apply (plexapi hands its ``timeout`` straight to requests, so a ``(connect, read)``
tuple works). Short in-call retries (tenacity) cover a blip; anything longer is the queue's backoff.
Every exception leaves through ``plex.errors.classify``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import quote_plus
from xml.etree.ElementTree import Element

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from plex.device_identity import apply_identity, load_or_create_identifier
from plex.errors import PlexConfigError, PlexUnavailable, classify
from validation.stash_log import get_logger, register_secret

T = TypeVar("T")
MOVIE_TYPE = 1
IN_CALL_ATTEMPTS = 3

log = get_logger("plex")


@dataclass(frozen=True)
class SectionInfo:
    id: int
    title: str
    locations: tuple[str, ...]


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
        wait: Any = None,
    ) -> None:
        register_secret(token)
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.session = requests.Session()
        self.session.verify = verify_tls
        self.session.hooks["response"].append(self._count_response)
        self.request_count = 0
        self._server: Any = None
        self._wait = wait if wait is not None else wait_random_exponential(multiplier=0.5, max=4)
        apply_identity(load_or_create_identifier(data_dir))

    def _count_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.request_count += 1

    def call(self, action: Callable[[], T]) -> T:
        """Run one Plex interaction: transient failures retried briefly, everything else classified."""
        retrying = Retrying(
            retry=retry_if_exception_type(PlexUnavailable),
            stop=stop_after_attempt(IN_CALL_ATTEMPTS),
            wait=self._wait,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    return action()
                except Exception as exc:
                    raise classify(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def server(self) -> Any:
        if self._server is None:
            from plexapi.server import PlexServer

            self._server = self.call(lambda: PlexServer(self.url, self._token, session=self.session,
                                                        timeout=self.timeout))
        return self._server

    def query(self, key: str, method: str = "get", **kwargs: Any) -> Element | None:
        verb = getattr(self.session, method)
        return self.call(lambda: self.server.query(key, method=verb, timeout=self.timeout, **kwargs))

    # -- what PlexSync asks of Plex --------------------------------------------------------------

    def probe(self) -> dict[str, str]:
        """GET /identity: is Plex there, and does it accept the token."""
        root = self.query("/identity")
        root_attrs = root.attrib if root is not None else {}
        return {"machineIdentifier": root_attrs.get("machineIdentifier", ""), "version": root_attrs.get("version", "")}

    def movie_sections(self, names: Sequence[str] = ()) -> list[SectionInfo]:
        """Libraries by name (case-insensitive), or every movie-type library when no names are given."""
        root = self.query("/library/sections")
        sections = [
            SectionInfo(int(d.attrib["key"]), d.attrib.get("title", ""),
                        tuple(loc.attrib.get("path", "") for loc in d.iter("Location")))
            for d in (root if root is not None else []) if d.tag == "Directory" and d.attrib.get("type") == "movie"
        ]
        if not names:
            if not sections:
                raise PlexConfigError("Plex has no movie-type library to sync into")
            return sections
        by_title = {section.title.casefold(): section for section in sections}
        missing = [name for name in names if name.casefold() not in by_title]
        if missing:
            known = ", ".join(sorted(section.title for section in sections)) or "none"
            raise PlexConfigError(f"Plex library not found: {', '.join(missing)} (movie libraries on this server: "
                                  f"{known}); check plex_library")
        return [by_title[name.casefold()] for name in names]

    def fetch_detail(self, rating_key: int) -> Any:
        """The full item (list views truncate tags), as a plexapi object that never auto-reloads."""
        item = self.call(lambda: self.server.fetchItem(int(rating_key)))
        item._autoReload = False
        return item

    def put_edits(self, section_id: int, rating_key: int, params: dict[str, Any]) -> None:
        """Exactly one PUT, encoded the way plexapi encodes its own edits."""
        from plexapi import utils

        args = {"type": MOVIE_TYPE, "id": int(rating_key), **params}
        self.query(f"/library/sections/{int(section_id)}/all{utils.joinArgs(args)}", method="put")

    def upload_image(self, rating_key: int, kind: str, data: bytes) -> None:
        endpoint = "posters" if kind == "poster" else "arts"
        self.query(f"/library/metadata/{int(rating_key)}/{endpoint}", method="post", data=data)

    def scan_folder(self, section_id: int, folder: str) -> None:
        """Ask Plex to scan one folder (as Plex sees it) so a new file gets an item sooner."""
        self.query(f"/library/sections/{int(section_id)}/refresh?path={quote_plus(folder)}")
