"""What went wrong talking to Plex, named after what happened, each with one routing decision.

``classify`` turns anything plexapi / requests raise into one of these, once, at the client boundary.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Sequence

import requests
from plexapi import exceptions as plex_exceptions

from validation.stash_log import redact

_STATUS = re.compile(r"^\((\d{3})\)")
_URL_QUERY = re.compile(r"(https?://[^\s?;]+)\?[^\s;]*")


class PlexSyncError(Exception):
    """Base of every Plex-side failure PlexSync knows how to route."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_message(message))


class PlexAuthError(PlexSyncError):
    """Plex rejected the token (401): pause the whole queue; never dead-letter a job for this."""


class PlexUnavailable(PlexSyncError):
    """Plex did not answer properly (refused, reset, timeout, 5xx, 429, unknown status): retry, count toward the breaker."""


class PlexItemGone(PlexSyncError):
    """404 for a ratingKey we hold: the item was deleted or re-added; forget the link and match again."""


class ItemNotInPlex(PlexSyncError):
    """No Plex item has this scene's file (yet): the slow lane, never an outage."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        shown = ", ".join(self.paths[:3]) or "(the scene has no file)"
        super().__init__(f"No Plex item has this file: {shown}")


class AmbiguousMatch(PlexSyncError):
    """More than one Plex item could be this scene's file: skipped (strict matching), candidates named."""

    def __init__(self, candidates: Sequence[tuple[int, str]]) -> None:
        self.candidates = list(candidates)
        named = "; ".join(f"ratingKey {key}: {file}" for key, file in self.candidates[:5])
        super().__init__(f"{len(self.candidates)} Plex items could be this scene: {named}")


class PlexRejected(PlexSyncError):
    """Plex refused this request (a 4xx other than 401/404): retried a few times, then dead-lettered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PlexConfigError(PlexSyncError):
    """Not something a retry fixes: a named library is missing, or the URL answers with something not Plex."""


def clean_message(message: str) -> str:
    """No tokens and no query strings (plexapi puts the request URL into its messages)."""
    return redact(_URL_QUERY.sub(r"\1", str(message))).strip()


def status_of(exc: BaseException) -> int | None:
    match = _STATUS.match(str(exc))
    return int(match.group(1)) if match else None


def classify(exc: BaseException) -> PlexSyncError:
    """Map any exception from plexapi/requests to the one PlexSync error that says how to route it."""
    if isinstance(exc, PlexSyncError):
        return exc
    if isinstance(exc, plex_exceptions.Unauthorized):  # a subclass of BadRequest: check it first
        return PlexAuthError(f"Plex rejected the token (401): {exc}")
    if isinstance(exc, plex_exceptions.NotFound):
        return PlexItemGone(str(exc))
    if isinstance(exc, plex_exceptions.BadRequest):
        status = status_of(exc)
        if status == 401:
            return PlexAuthError(f"Plex rejected the token (401): {exc}")
        if status is None or status >= 500 or status in (408, 429):
            return PlexUnavailable(str(exc))
        return PlexRejected(str(exc), status)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return PlexUnavailable(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, ElementTree.ParseError):
        return PlexConfigError(f"The Plex URL answered with something that is not Plex XML ({exc}); "
                               "check plex_url (a proxy login page?)")
    if isinstance(exc, TypeError) and "NoneType" in str(exc):
        return PlexUnavailable(f"Plex (or a proxy) answered with an unknown HTTP status: {exc}")
    return PlexUnavailable(f"{type(exc).__name__}: {exc}")
