"""What the Plex emulator's server and its routes share: the recorded request, and the face of the emulator that
the routes act on (so :mod:`emulators.plex.routes` needs nothing from :mod:`emulators.plex.server`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from emulators.plex.model import PlexLibrary


class Headers(dict):
    """Request headers keyed in lower case; lookups ignore case (``headers["X-Plex-Token"]`` works)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes = b""

    def param(self, name: str) -> str | None:
        """First value of a query parameter (decoded), or None."""
        return next((value for key, value in self.query if key == name), None)


class ServedPlex(Protocol):
    """The emulator as its routes see it: the library, how it answers, and where scans are recorded."""

    library: PlexLibrary
    machine_identifier: str
    version: str
    truncate_list_tags: bool
    missing_item_edits: str

    def record_scan(self, section_id: int, path: str | None) -> None: ...
