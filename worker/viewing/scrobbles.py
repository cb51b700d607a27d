"""Plays recorded in Stash mark the linked Plex item watched (``scrobble_stash_plays``, off by default).

Stash fires no plugin hook for plays (stash-protocol.md), so the worker cannot see them during a scene sync; they
are looked for whenever plays are imported (task, command line, the worker's period), among scenes whose
``last_played_at`` moved since the last look.

No play goes round the loop, by construction rather than by timing:

- a Stash play reaches Plex only as "mark played" (``/:/scrobble``), which from Plex Media Server 1.40.0.7998 changes
  the item's ``viewCount`` and ``lastViewedAt`` and writes no history row (python-plexapi PR #1366). The import
  reads only history rows, so every row of a linked item is a play someone made in a Plex client, never
  PlexSync's, and nothing a scrobble did can come back into Stash, whatever fails, retries or runs in between;
- an older server would write a row no different from a real play: nothing is sent to it (one Info line says why);
- a Stash play that PlexSync imported from Plex (its time is in the play ledger) is never sent to Plex.

Only plays after the switch was first seen on are sent, so turning it on does not replay Stash's whole past.
A scrobble is written down before Plex is asked and marked done after; one left open (Plex refused it, or a
crash) is done when the item shows a view since it was written down, else it is sent again. Either way only
Plex's view count can be off by one; its history and Stash are untouched.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Iterator

from plex import history as plex_history
from sync_queue.ledgers.plays import PlayLedger
from validation.clocks import stamped_since
from validation.stash_log import get_logger
from worker.viewing import stash_calls as play_stash
from worker.stash.reader import watermark_with_margin, window_start_like

log = get_logger("scrobbles")

STASH_MARGIN_SECONDS = 600
MARK_KEY = "stash_plays_mark"  # kv: {"since": epoch switched on, "text": newest last_played_at seen}
OLD_PLEX_KEY = "stash_plays_old_plex"  # kv: the Plex version last told it gets no Stash plays
PER_PAGE = 500

RECENTLY_PLAYED = """
query PlexSyncRecentlyPlayed($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id last_played_at play_history } }
}
"""

NEWEST_SCENE = """
query PlexSyncNewestScene {
  findScenes(filter: {per_page: 1, sort: "updated_at", direction: DESC}) { count scenes { id updated_at } }
}
"""

SCROBBLE_DOCUMENTS = {"RECENTLY_PLAYED": RECENTLY_PLAYED, "NEWEST_SCENE": NEWEST_SCENE}


def _first_mark(rt: Any) -> dict[str, Any]:
    """Now, written the way this Stash writes times (its timestamps compare as text)."""
    newest = rt.stash.call(NEWEST_SCENE)["findScenes"]["scenes"]
    template = newest[0]["updated_at"] if newest else "2000-01-01T00:00:00Z"
    return {"since": int(time.time()), "text": window_start_like(template, 0)}


def _recently_played(rt: Any, after_text: str) -> Iterator[dict[str, Any]]:
    page = 1
    criterion = {"value": after_text, "modifier": "GREATER_THAN"}
    while True:
        result = rt.stash.call(RECENTLY_PLAYED, {"filter": {"page": page, "per_page": PER_PAGE, "sort": "id"},
                                                 "scene_filter": {"last_played_at": criterion}})["findScenes"]
        yield from result["scenes"]
        if not result["scenes"] or page * PER_PAGE >= int(result["count"]):
            return
        page += 1


def _plex_keeps_marks_out_of_history(rt: Any) -> bool:
    """True from PMS 1.40.0.7998; on an older server, says once (per Plex version) why nothing is sent."""
    if plex_history.marks_played_without_history(rt.plex):
        return True
    version = str(rt.plex.server.version or "unknown")
    if rt.store.get_json(OLD_PLEX_KEY, None) != version:
        log.info("Stash plays are not sent to this Plex (version %s): before Plex Media Server 1.40.0.7998, "
                 "marking an item played also wrote a play into Plex's history, which the next import would "
                 "bring back into Stash as a second play. Update Plex to send them.", version)
        rt.store.set_json(OLD_PLEX_KEY, version)
    return False


def _taken(rt: Any, rating_key: int, noted_at: float) -> bool:
    """Did Plex take a scrobble left open? Yes when the owner's last view is stamped since the moment it was
    written down, by Plex's clock (or the item is gone: nothing left to mark)."""
    state = plex_history.watch_state(rt.plex, rating_key)
    if state is None:
        return True
    view_count, last_viewed_at = state
    return view_count > 0 and last_viewed_at is not None and stamped_since(last_viewed_at, noted_at)


def _resolve_open(rt: Any, ledger: PlayLedger) -> int:
    """Scrobbles a failure or crash left open: sent again unless Plex shows it took them."""
    sent = 0
    for scene_id, played_at, seq, rating_key, noted_at in ledger.open_scrobbles():
        if not _taken(rt, rating_key, noted_at):
            plex_history.mark_played(rt.plex, rating_key)
            sent += 1
        ledger.scrobble_done(scene_id, played_at, seq)
    return sent


def _new_stash_plays(ledger: PlayLedger, scene: dict[str, Any], since: int) -> list[int]:
    """Times of this scene's Stash plays after ``since`` that came neither from Plex nor went to Plex yet."""
    scene_id = int(scene["id"])
    times = Counter(t for t in map(play_stash.epoch_of, scene["play_history"] or []) if t >= since)
    fresh = times - ledger.imported_times(scene_id) - ledger.scrobbled_times(scene_id)
    return sorted(fresh.elements())


def scrobble_stash_plays(rt: Any, ledger: PlayLedger, links: dict[int, list[int]]) -> int:
    """Send new Stash plays of linked scenes to Plex; returns how many scrobbles Plex took."""
    if not _plex_keeps_marks_out_of_history(rt):
        return 0
    mark = rt.store.get_json(MARK_KEY, None)
    if mark is None:
        rt.store.set_json(MARK_KEY, _first_mark(rt))
        log.info("Stash plays from now on mark their Plex items watched")
        return 0
    sent = _resolve_open(rt, ledger)
    by_scene = {scene_id: rating_key for rating_key, scene_ids in links.items() for scene_id in scene_ids}
    newest = mark["text"]
    for scene in _recently_played(rt, watermark_with_margin(mark["text"], STASH_MARGIN_SECONDS)):
        newest = max(newest, scene["last_played_at"] or newest)
        rating_key = by_scene.get(int(scene["id"]))
        if rating_key is None:
            continue
        for played_at in _new_stash_plays(ledger, scene, int(mark["since"])):
            seq = ledger.note_scrobble(int(scene["id"]), played_at, rating_key)
            plex_history.mark_played(rt.plex, rating_key)
            ledger.scrobble_done(int(scene["id"]), played_at, seq)
            sent += 1
    rt.store.set_json(MARK_KEY, {**mark, "text": newest})
    return sent
