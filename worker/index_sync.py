"""Keep the store's Plex path index fresh: one paged listing per library, then incremental by addedAt."""

from __future__ import annotations

import time
from typing import Iterable, Sequence

from plex.library_index import IndexedPart, list_parts
from plex.matcher import basename_key, path_key
from sync_queue.store import Store
from validation.stash_log import get_logger

INDEX_STAMP_KEY = "index_refreshed_at"
FULL_STAMP_KEY = "index_fully_listed_at"  # {section id: time}
ADDED_AT_OVERLAP = 120  # seconds re-listed on every incremental pass (clock skew, same-second adds)
# A full re-listing now and then catches what "added since" cannot: deleted items (their rows would make a
# re-added file ambiguous) and items whose addedAt is older than the watermark (restored, or edited).
FULL_RELIST_SECONDS = 24 * 3600.0
MIN_INCREMENTAL_GAP = 20.0  # don't re-list more often than this while a batch keeps missing

log = get_logger("index")


def index_rows(parts: Iterable[IndexedPart]) -> Iterable[tuple]:
    for part in parts:
        yield (part.rating_key, path_key(part.file), basename_key(part.file), part.file, part.size,
               part.added_at, part.updated_at)


def refresh_index(store: Store, plex, sections: Sequence, *, full: bool = False) -> int:
    """Full listing for a library never indexed, not fully listed for a day, or when asked; else only
    recent additions."""
    listed, now = 0, time.time()
    fully_listed = store.get_json(FULL_STAMP_KEY, {}) or {}
    for section in sections:
        last_full = float(fully_listed.get(str(section.id), 0))
        if full or store.index_size(section.id) == 0 or not 0 <= now - last_full <= FULL_RELIST_SECONDS:
            listed += store.replace_index_section(section.id, index_rows(list_parts(plex, section.id)))
            fully_listed[str(section.id)] = now
            log.info("Indexed Plex library %r: %d files", section.title, store.index_size(section.id))
            relinking = store.requeue_unlisted_links(section.id)
            if relinking:
                log.info("%d synced scenes' Plex items are gone from %r; matching them again", relinking,
                         section.title)
        else:
            since = incremental_watermark(store, section.id, now)
            listed += store.upsert_index_rows(section.id, index_rows(list_parts(plex, section.id, added_since=since)))
    store.set_json(FULL_STAMP_KEY, fully_listed)
    store.set_json(INDEX_STAMP_KEY, now)
    return listed


def incremental_watermark(store: Store, section_id: int, now: float) -> int:
    """The newest addedAt known that is not in the future (one item dated ahead, by clock skew or an
    edited added date, must not hide every later addition), less an overlap."""
    newest = store.index_max_added_at(section_id, not_after=int(now) + ADDED_AT_OVERLAP)
    return max(0, newest - ADDED_AT_OVERLAP)


def refresh_if_stale(store: Store, plex, sections: Sequence) -> bool:
    """Incremental refresh at most every MIN_INCREMENTAL_GAP seconds; True when it ran."""
    last = float(store.get_json(INDEX_STAMP_KEY, 0) or 0)
    if 0 <= time.time() - last < MIN_INCREMENTAL_GAP:  # a stamp "in the future": the clock stepped back
        return False
    refresh_index(store, plex, sections)
    return True
