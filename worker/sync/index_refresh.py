"""Keep the store's Plex path index an exact mirror of Plex: one sweep per library and pass, in ``(updatedAt,
ratingKey)`` order from the library's ``since_stamp`` on, and from the start once a day.

**The index invariant.** For every library, every live Plex item whose updatedAt is before the library's
``since_stamp`` is in the index exactly as Plex has it now: each of its media parts under its ratingKey, and no
other item of that library at any of its paths. It is kept by three rules, all in this module and
``sync_queue.mirror.plex_index``:

1. A pass lists every item stamped at ``since_stamp`` or later and writes each page once it is read; an item's
   rows are replaced whole, in one transaction, and a path listed for an item leaves every other item of the
   library (Plex keeps one item per file and library: a re-added file's dead ratingKey goes).
2. ``since_stamp`` only moves to a second no later change can be stamped at or before (:func:`next_since`): any
   change to an item moves its updatedAt to Plex's present, so an item that changes after it was listed is
   listed again by a later pass, whatever happened between pages or passes.
3. A deleted item leaves no stamp behind: the daily full listing forgets the items it did not list.

No write relies on the index alone: see the write-safety rule (``worker.sync.write_safety``).
"""

from __future__ import annotations

import time
from typing import Iterable, Iterator, Sequence

from plex.library_index import ListedItem, item_pages
from plex.matcher import basename_key, path_key
from sync_queue.store import Store
from validation.clocks import believable, earliest_plex_present
from validation.stash_log import get_logger

INDEX_REFRESHED_KEY = "index_refreshed_at"  # when the last pass ran (time.time() seconds)
# {section id: {"since_stamp": plex_stamp the next pass lists from, "full_at_s": time of the last full listing}}
SWEEPS_KEY = "index_sweeps"
SETTLE_S = 30  # a change Plex stamps is committed within this long: its second is listed again until then
FULL_RELIST_S = 24 * 3600.0  # deleted items leave no stamp: a full listing now and then forgets them
MIN_INCREMENTAL_GAP_S = 20.0  # don't re-list more often than this while a batch keeps missing
WRITE_CHUNK = 1000  # rows per write transaction: milliseconds of lock, so a hook or the lease heartbeat never waits

log = get_logger("index")


def index_rows(parts: Iterable) -> list[tuple]:
    return [(part.rating_key, path_key(part.file), basename_key(part.file), part.file, part.size, part.added_stamp,
             part.updated_stamp) for part in parts]


def _chunks(items: Sequence[ListedItem], size: int = WRITE_CHUNK) -> Iterator[list[tuple[int, list[tuple]]]]:
    """Items with their rows, about ``size`` rows per chunk; an item's rows are never split across two (each
    chunk replaces its items' rows whole: a split multi-part item would keep only the second chunk's files)."""
    chunk: list[tuple[int, list[tuple]]] = []
    rows_in_chunk = 0
    for item in items:
        rows = index_rows(item.parts)
        if chunk and rows_in_chunk + len(rows) > size:
            yield chunk
            chunk, rows_in_chunk = [], 0
        chunk.append((item.rating_key, rows))
        rows_in_chunk += len(rows)
    if chunk:
        yield chunk


def store_items(store: Store, section_id: int, items: Sequence[ListedItem]) -> tuple[int, int]:
    """The listed items replace what the index had for them, one short transaction per chunk, once their page has
    been read (the short-transaction rule, ``sync_queue.database``). Returns (rows written, rows removed)."""
    written = removed = 0
    for chunk in _chunks(items):
        change = store.replace_index_items(section_id, chunk)
        written, removed = written + change[0], removed + change[1]
    return written, removed


def next_since(newest_stamp: int | None, now_s: float) -> int:
    """The first second a later pass lists again: after any second Plex can no longer stamp a change with. Plex
    stamps a change with its present, which is at least the newest stamp it showed and, clocks agreeing, at least
    our clock less the skew (``validation.clocks``); :data:`SETTLE_S` covers changes stamped a moment before they commit."""
    settled = earliest_plex_present(now_s) - SETTLE_S
    if newest_stamp is not None:
        settled = max(settled, newest_stamp - SETTLE_S)
    return settled + 1


def refresh_index(store: Store, plex, sections: Sequence, *, full: bool = False) -> int:
    """One pass over each library: in full when it was never indexed, not listed in full for a day, or when
    asked; else only what changed since its ``since_stamp``. Returns the rows written."""
    sweeps = store.get_json(SWEEPS_KEY, {}) or {}
    written = 0
    for section in sections:
        now_s = time.time()  # before the listing: what it reads was stamped no later than Plex's present then
        state = sweeps.get(str(section.id)) or {}
        full_at_s = float(state.get("full_at_s", 0))
        in_full = full or not state or store.index_size(section.id) == 0 or not 0 <= now_s - full_at_s <= FULL_RELIST_S
        since_stamp = 0 if in_full else int(state.get("since_stamp", 0))
        count, removed, newest_stamp, seen = _sweep(store, plex, section.id, since_stamp, now_s, keep_keys=in_full)
        written += count
        if in_full:
            removed += store.prune_index_section(section.id, seen)  # deleted in Plex
            log.info("Indexed Plex library %r: %d files", section.title, store.index_size(section.id))
            full_at_s = now_s
        if removed or in_full:
            _relink_orphans(store, section)
        sweeps[str(section.id)] = {"since_stamp": max(since_stamp, next_since(newest_stamp, now_s)),
                                 "full_at_s": full_at_s}
        store.set_json(SWEEPS_KEY, sweeps)
    store.set_json(INDEX_REFRESHED_KEY, time.time())
    return written


def _sweep(store: Store, plex, section_id: int, since_stamp: int, now_s: float,
           keep_keys: bool) -> tuple[int, int, int | None, set[int]]:
    """List and write one library from ``since_stamp`` on: (rows written, rows removed, the newest believable
    updatedAt listed or None, the ratingKeys listed when ``keep_keys``)."""
    written = removed = 0
    newest_stamp: int | None = None
    seen: set[int] = set()
    for items in item_pages(plex, section_id, since_stamp=since_stamp):
        count, gone = store_items(store, section_id, items)
        written, removed = written + count, removed + gone
        stamps = [item.updated_stamp for item in items if believable(item.updated_stamp, now_s)]
        if stamps:
            newest_stamp = max(stamps + ([newest_stamp] if newest_stamp is not None else []))
        if keep_keys:
            seen.update(item.rating_key for item in items)
    return written, removed, newest_stamp, seen


def _relink_orphans(store: Store, section) -> None:
    relinking = store.requeue_unlisted_links(section.id)
    if relinking:
        log.info("%d synced scenes' Plex items no longer hold their files in %r; matching them again", relinking,
                 section.title)


def refresh_if_stale(store: Store, plex, sections: Sequence) -> bool:
    """Incremental refresh at most every :data:`MIN_INCREMENTAL_GAP_S`; True when it ran."""
    last_s = float(store.get_json(INDEX_REFRESHED_KEY, 0) or 0)
    if 0 <= time.time() - last_s < MIN_INCREMENTAL_GAP_S:  # a stamp "in the future": the clock stepped back
        return False
    refresh_index(store, plex, sections)
    return True
