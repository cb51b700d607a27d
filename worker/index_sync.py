"""Keep the store's Plex path index fresh: one paged listing per library, then incremental by addedAt."""

from __future__ import annotations

import time
from typing import Iterable, Sequence

from plex.library_index import IndexedPart, list_parts
from plex.matcher import basename_key, path_key
from sync_queue.store import Store
from validation.stash_log import get_logger

INDEX_STAMP_KEY = "index_refreshed_at"
ADDED_AT_OVERLAP = 120  # seconds re-listed on every incremental pass (clock skew, same-second adds)
MIN_INCREMENTAL_GAP = 20.0  # don't re-list more often than this while a batch keeps missing

log = get_logger("index")


def index_rows(parts: Iterable[IndexedPart]) -> Iterable[tuple]:
    for part in parts:
        yield (part.rating_key, path_key(part.file), basename_key(part.file), part.file, part.size,
               part.added_at, part.updated_at)


def refresh_index(store: Store, plex, sections: Sequence, *, full: bool = False) -> int:
    """Full listing for a library we have never indexed (or when asked), else only recent additions."""
    listed = 0
    for section in sections:
        if full or store.index_size(section.id) == 0:
            listed += store.replace_index_section(section.id, index_rows(list_parts(plex, section.id)))
            log.info("Indexed Plex library %r: %d files", section.title, store.index_size(section.id))
        else:
            since = max(0, store.index_max_added_at(section.id) - ADDED_AT_OVERLAP)
            listed += store.upsert_index_rows(section.id, index_rows(list_parts(plex, section.id, added_since=since)))
    store.set_json(INDEX_STAMP_KEY, time.time())
    return listed


def refresh_if_stale(store: Store, plex, sections: Sequence) -> bool:
    """Incremental refresh at most every MIN_INCREMENTAL_GAP seconds; True when it ran."""
    last = float(store.get_json(INDEX_STAMP_KEY, 0) or 0)
    if time.time() - last < MIN_INCREMENTAL_GAP:
        return False
    refresh_index(store, plex, sections)
    return True
