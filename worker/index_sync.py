"""Keep the store's Plex path index fresh: one paged listing per library, then incremental by addedAt and
updatedAt."""

from __future__ import annotations

import time
from itertools import islice
from typing import Iterable, Iterator, Sequence

from plex.library_index import IndexedPart, Listing, PartPages
from plex.matcher import basename_key, path_key
from sync_queue.store import Store
from validation.stash_log import get_logger

INDEX_STAMP_KEY = "index_refreshed_at"
FULL_STAMP_KEY = "index_fully_listed_at"  # {section id: time of its last consistent full listing}
UPDATED_MARK_KEY = "index_updated_at_mark"  # {section id: newest Plex updatedAt seen (not in the future)}
ADDED_AT_OVERLAP = 120  # seconds of addedAt a fresh incremental listing starts early (clock skew, same-second adds)
# {section id: {"added_since" | "updated_since": [floor (None: the whole section), items listed, last ratingKey]}}:
# where the last listing of each kind ended, so the next pass reads only the pages after it, however many items
# share one addedAt or updatedAt (a bulk import stamps thousands with the same second).
CURSORS_KEY = "index_listing_cursors"
# Seconds of updatedAt re-listed on every pass: the mark is Plex's own clock, so only a write Plex stamps a little
# before it commits can land behind it; every item our own pushes edited in that window is listed again.
UPDATED_AT_OVERLAP = 30
# An updatedAt listing resumes after the last item stamped this long before the pass began (our clock may be up to
# ADDED_AT_OVERLAP behind Plex's), or UPDATED_AT_OVERLAP before the newest stamp Plex showed (while a sync keeps
# Plex busy): any edit Plex makes later carries a newer stamp and sorts after that item.
SETTLED_SECONDS = ADDED_AT_OVERLAP + UPDATED_AT_OVERLAP
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
    """The listed items' rows replace what the index had for them, one short transaction per chunk (a page is
    written once it has been read: no write transaction is ever open while Plex is asked)."""
    return sum(store.replace_index_items(section_id, chunk) for chunk in _chunks(rows))


def refresh_index(store: Store, plex, sections: Sequence, *, full: bool = False) -> int:
    """Full listing for a library never indexed, not consistently listed in full for a day, or when asked; else
    only items added or changed since the last pass. Each page is written as soon as it is read, so a library
    of any size is never held in memory whole."""
    listed, now = 0, time.time()
    fully_listed = store.get_json(FULL_STAMP_KEY, {}) or {}
    updated_marks = store.get_json(UPDATED_MARK_KEY, {}) or {}
    cursors = store.get_json(CURSORS_KEY, {}) or {}
    for section in sections:
        key = str(section.id)
        last_full = float(fully_listed.get(key, 0))
        mark = int(updated_marks.get(key, incremental_watermark(store, section.id, now)))
        if full or store.index_size(section.id) == 0 or not 0 <= now - last_full <= FULL_RELIST_SECONDS:
            seen: set[tuple[int, str]] = set()
            listing, count, updated_marks[key] = _store_pages(store, section.id, PartPages(plex, section.id), mark,
                                                              now, seen)
            listed += count
            _finish_full_listing(store, section, listing, seen)
            fully_listed[key] = now if listing.consistent else 0
            cursors[key] = {"added_since": _cursor(None, listing)}  # the whole section, in addedAt order
            continue
        section_cursors = cursors.get(key) or {}
        added, count, _ = _list_since(store, plex, section.id, "added_since", section_cursors,
                                      incremental_watermark(store, section.id, now), now)
        changed, changed_count, newest = _list_since(
            store, plex, section.id, "updated_since", section_cursors, max(0, mark - UPDATED_AT_OVERLAP), now,
            settled_before=max(int(now) - SETTLED_SECONDS, min(mark, int(now)) - UPDATED_AT_OVERLAP))
        listed += count + changed_count
        if not added.consistent:
            fully_listed[key] = 0  # something may be missing: list it in full next time
        cursors[key] = section_cursors
        updated_marks[key] = _next_updated_mark(changed, newest, mark)
    store.set_json(FULL_STAMP_KEY, fully_listed)
    store.set_json(UPDATED_MARK_KEY, updated_marks)
    store.set_json(CURSORS_KEY, cursors)
    store.set_json(INDEX_STAMP_KEY, now)
    return listed


def _store_pages(store: Store, section_id: int, pages: PartPages, mark: int, now: float,
                 seen: set[tuple[int, str]] | None = None) -> tuple[Listing, int, int]:
    """Write each page's rows once it is read: (what the listing says, rows written, the newest updatedAt listed
    or ``mark``). ``seen`` collects each listed (ratingKey, path key) for a full listing's pruning."""
    count = 0
    for parts in pages:
        rows = index_rows(parts)
        count += store_items(store, section_id, rows)
        mark = _newest_update(parts, mark, now)
        if seen is not None:
            seen.update((row[0], row[1]) for row in rows)
    return pages.outcome([]), count, mark


def _list_since(store: Store, plex, section_id: int, kind: str, cursors: dict, fresh_since: int, now: float,
                settled_before: int | None = None) -> tuple[Listing, int, int]:
    """Items added (``kind`` "added_since") or changed ("updated_since") since the last pass, written to the
    index: the pages after where that pass's listing ended, when its last item is still in its place; else (a
    first pass, or an item before it was deleted, edited or re-dated) everything from ``fresh_since`` on.
    ``cursors[kind]`` is moved on. Returns what :func:`_store_pages` does."""
    cursor = cursors.get(kind)
    if cursor:
        since, position, last_key = cursor
        pages = PartPages(plex, section_id, resume=(int(position), str(last_key)), settled_before=settled_before,
                          **{kind: since})
        read = _store_pages(store, section_id, pages, 0, now)
        if read[0].resumed:
            cursors[kind] = _cursor(since, read[0])
            return read
    read = _store_pages(store, section_id, PartPages(plex, section_id, settled_before=settled_before,
                                                     **{kind: fresh_since}), 0, now)
    cursors[kind] = _cursor(fresh_since, read[0])
    return read


def _cursor(since: int | None, listing: Listing) -> list | None:
    """Where a later pass can resume this listing: only after a consistent one (else it starts afresh)."""
    return [since, *listing.end] if listing.consistent and listing.end else None


def _finish_full_listing(store: Store, section, listing: Listing, seen: set[tuple[int, str]]) -> None:
    """A consistent listing replaces the library's index and forgets links to items it lacks; one that changed
    while it was read only added and updated (an item it skipped is not gone)."""
    if not listing.consistent:
        log.info("Plex library %r changed while it was listed; nothing forgotten, listing it in full again next "
                 "time", section.title)
        return
    store.prune_index_section(section.id, seen)  # deleted in Plex
    log.info("Indexed Plex library %r: %d files", section.title, store.index_size(section.id))
    relinking = store.requeue_unlisted_links(section.id)
    if relinking:
        log.info("%d synced scenes' Plex items are gone from %r; matching them again", relinking, section.title)


def _newest_update(parts: Sequence[IndexedPart], previous: float, now: float) -> int:
    """The newest updatedAt listed that is not in the future (one item dated ahead must not hide later
    changes), or the previous mark."""
    bound = int(now) + ADDED_AT_OVERLAP
    return max([int(previous)] + [part.updated_at for part in parts if part.updated_at <= bound])


def _next_updated_mark(changed: Listing, newest: int, previous: int) -> int:
    """Where the next updatedAt listing starts. A page boundary that moved while it was read (an item edited or
    deleted meanwhile) may have skipped items; in updatedAt order they all sort at or after the last item listed
    before that boundary, so the mark stops there (or stays, when the order could not tell)."""
    newest = max(newest, previous)
    if changed.consistent:
        return newest
    if changed.moved_after_updated_at is None:
        return previous
    return max(previous, min(newest, changed.moved_after_updated_at))


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
