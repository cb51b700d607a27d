"""Collections as Plex items of their own (plex-api.md §3.3): finding a collection's ratingKey by title and
giving it a poster.

plexapi's ``Collection`` carries the same poster mixins as a movie (plexapi/collection.py, ``PosterMixin``):
``uploadPoster(filepath=…)`` POSTs the bytes to ``/library/metadata/{collection ratingKey}/posters`` and
``lockPoster()`` sends ``thumb.locked=1`` through the section edit with the collection's type, 18
(plexapi/base.py ``_edit``, utils.SEARCHTYPES). The same calls are made here through ``PlexClient``, so they
are counted, retried and classified like every other request.
"""

from __future__ import annotations

from typing import Any

COLLECTION_TYPE = 18


def collection_keys(client: Any, section_id: int) -> dict[str, int]:
    """Title (folded, as Plex matches collection names) → ratingKey of every collection in the library: one GET
    (``section.collections()``'s listing, ``…/all?type=18``)."""
    root = client.query(f"/library/sections/{int(section_id)}/all?type={COLLECTION_TYPE}", container=True)
    keys: dict[str, int] = {}
    for directory in root if root is not None else []:
        title, key = directory.attrib.get("title"), directory.attrib.get("ratingKey", "")
        if title and key.isdigit():
            keys.setdefault(title.casefold(), int(key))
    return keys


def upload_collection_poster(client: Any, section_id: int, rating_key: int, data: bytes) -> None:
    """One POST of the image (Plex selects it), then one PUT locking the collection's poster, as an item's is
    locked, so an agent refresh keeps it."""
    from plexapi import utils

    client.upload_image(rating_key, "poster", data)
    args = utils.joinArgs({"type": COLLECTION_TYPE, "id": int(rating_key), "thumb.locked": 1})
    client.query(f"/library/sections/{int(section_id)}/all{args}", method="put")
