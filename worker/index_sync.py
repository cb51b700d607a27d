"""Keep the store's Plex path index fresh: one paged listing per library, then incremental by addedAt and
updatedAt."""

from __future__ import annotations

import time
from itertools import islice
from typing import Iterable, Iterator, Sequence

from plex.library_index import IndexedPart, Listing, list_parts
from plex.matcher import basename_key, path_key
from sync_queue.store import Store
from validation.stash_log import get_logger

INDEX_STAMP_KEY = "index_refreshed_at"
FULL_STAMP_KEY = "index_fully_listed_at"  # {section id: time of its last consistent full listing}
UPDATED_MARK_KEY = "index_updated_at_mark"  # {section id: newest Plex updatedAt seen (not in the future)}
ADDED_AT_OVERLAP = 120  # seconds re-listed on every incremental pass (clock skew, same-second adds)
# A full re-listing now and then catches what "added or changed since" cannot: deleted items (their rows would
# make a re-added file ambiguous).
FULL_RELIST_SECONDS = 24 * 3600.0
MIN_INCREMENTAL_GAP = 20.0  # don't re-list more often than this while a batch keeps missing
# How long "Plex had this item" stays believed (a listing or a read) before a write that does not read the item
# first makes sure of it: a PUT to a ratingKey Plex no longer has may answer 200 and change nothing.
LINK_TRUST_SECONDS = 300.0
WRITE_CHUNK = 1000  # rows per write transaction: milliseconds of lock, so a hook or the lease heartbeat never waits

log = get_logger("index")


def index_rows(parts: Iterable[IndexedPart]) -> list[tuple]:
    return [(part.rating_key, path_key(part.file), basename_key(part.file), part.file, part.size, part.added_at,
             part.updated_at) for part in parts]


def _chunks(rows: list[tuple], size: int = WRITE_CHUNK) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def store_items(store: Store, section_id: int, rows: list[tuple]) -> int:
    """The listed items' rows replace what the index had for them, one short transaction per chunk (the
    listing was read completely before: no write transaction is ever open while Plex is asked)."""
    return sum(store.replace_index_items(section_id, chunk) for chunk in _chunks(rows))


def refresh_index(store: Store, plex, sections: Sequence, *, full: bool = False) -> int:
    """Full listing for a library never indexed, not consistently listed in full for a day, or when asked; else
    only items added or changed since the last pass. Every listing is read before the store is written."""
    listed, now = 0, time.time()
    fully_listed = store.get_json(FULL_STAMP_KEY, {}) or {}
    updated_marks = store.get_json(UPDATED_MARK_KEY, {}) or {}
    for section in sections:
        last_full = float(fully_listed.get(str(section.id), 0))
        if full or store.index_size(section.id) == 0 or not 0 <= now - last_full <= FULL_RELIST_SECONDS:
            listing = list_parts(plex, section.id)
            listed += _store_full_listing(store, section, listing)
            fully_listed[str(section.id)] = now if listing.consistent else 0
        else:
            added = list_parts(plex, section.id, added_since=incremental_watermark(store, section.id, now))
            since = int(updated_marks.get(str(section.id), incremental_watermark(store, section.id, now)))
            changed = list_parts(plex, section.id, updated_since=max(0, since - ADDED_AT_OVERLAP))
            listing = Listing(added.parts + changed.parts, added.consistent and changed.consistent)
            listed += store_items(store, section.id, index_rows(listing.parts))
            if not listing.consistent:
                fully_listed[str(section.id)] = 0  # something may be missing: list it in full next time
        updated_marks[str(section.id)] = _newest_update(listing, updated_marks.get(str(section.id), 0), now)
    store.set_json(FULL_STAMP_KEY, fully_listed)
    store.set_json(UPDATED_MARK_KEY, updated_marks)
    store.set_json(INDEX_STAMP_KEY, now)
    return listed


def _store_full_listing(store: Store, section, listing: Listing) -> int:
    """A consistent listing replaces the library's index and forgets links to items it lacks; one that changed
    while it was read only adds and updates (an item it skipped is not gone)."""
    if not listing.consistent:
        log.info("Plex library %r changed while it was listed; nothing forgotten, listing it in full again next "
                 "time", section.title)
        return store_items(store, section.id, index_rows(listing.parts))
    rows = index_rows(listing.parts)
    count = store_items(store, section.id, rows)
    store.prune_index_section(section.id, {(row[0], row[1]) for row in rows})  # deleted in Plex
    log.info("Indexed Plex library %r: %d files", section.title, store.index_size(section.id))
    relinking = store.requeue_unlisted_links(section.id)
    if relinking:
        log.info("%d synced scenes' Plex items are gone from %r; matching them again", relinking, section.title)
    return count


def _newest_update(listing: Listing, previous: float, now: float) -> int:
    """The newest updatedAt listed that is not in the future (one item dated ahead must not hide later
    changes), or the previous mark."""
    bound = int(now) + ADDED_AT_OVERLAP
    return max([int(previous)] + [part.updated_at for part in listing.parts if part.updated_at <= bound])


def incremental_watermark(store: Store, section_id: int, now: float) -> int:
    """The newest addedAt known that is not in the future (one item dated ahead, by clock skew or an
    edited added date, must not hide every later addition), less an overlap."""
    newest = store.index_max_added_at(section_id, not_after=int(now) + ADDED_AT_OVERLAP)
    return max(0, newest - ADDED_AT_OVERLAP)


def sections_listed_in_full_within(store: Store, seconds: float) -> set[int]:
    """Libraries a consistent full listing saw within ``seconds``: every link into them that is still stored was
    in that listing (the listing forgets the others)."""
    now = time.time()
    stamps = store.get_json(FULL_STAMP_KEY, {}) or {}
    return {int(section) for section, at in stamps.items() if 0 <= now - float(at) <= seconds}


def refresh_if_stale(store: Store, plex, sections: Sequence) -> bool:
    """Incremental refresh at most every MIN_INCREMENTAL_GAP seconds; True when it ran."""
    last = float(store.get_json(INDEX_STAMP_KEY, 0) or 0)
    if 0 <= time.time() - last < MIN_INCREMENTAL_GAP:  # a stamp "in the future": the clock stepped back
        return False
    refresh_index(store, plex, sections)
    return True
