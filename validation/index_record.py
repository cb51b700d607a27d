"""One Plex media part as the path index keeps it: what ``plex`` lists and what ``sync_queue`` stores and hands
back to the matcher. It lives here because both rooms use it and neither may import the other."""

from __future__ import annotations

from typing import NamedTuple


class IndexedPart(NamedTuple):
    rating_key: int
    section_id: int
    file: str
    size: int | None
    added_stamp: int  # Plex's addedAt
    updated_stamp: int  # Plex's updatedAt
