"""Plays recorded in Stash mark the linked Plex item watched (``scrobble_stash_plays``, off by default).

Stash fires no plugin hook for plays (stash-protocol.md), so the worker cannot see them during a scene sync; they
are looked for whenever plays are imported (task, command line, the worker's period), among scenes whose
``last_played_at`` moved since the last look. Loops are cut both ways:

- a Stash play that PlexSync imported from Plex (its time is in the play ledger) is never sent to Plex;
- the Plex history row a scrobble creates (owner, that item, within ``ECHO_WINDOW_SECONDS`` of sending) is
  claimed as our own echo and never imported into Stash.

Only plays after the switch was first seen on are sent, so turning it on does not replay Stash's whole past.
A scrobble is written down before Plex is asked and marked done after; one left open by a crash is done if
Plex's history shows its echo, else it is sent again.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Iterator

from plex import history as plex_history
from sync_queue.plays import PlayLedger
from validation.stash_log import get_logger
from worker import play_stash
from worker.stash_reader import watermark_with_margin, window_start_like

log = get_logger("scrobbles")

ECHO_WINDOW_SECONDS = 300  # Plex stamps viewedAt with its own clock when it takes the scrobble
STASH_MARGIN_SECONDS = 600
MARK_KEY = "stash_plays_mark"  # kv: {"since": epoch switched on, "text": newest last_played_at seen}
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


def echo_rows(entries: list[plex_history.HistoryEntry]) -> list[tuple[str, int, int]]:
    from sync_queue.plays import play_key

    return [(play_key(e.rating_key, e.account_id, e.viewed_at), e.rating_key, e.viewed_at) for e in entries
            if e.account_id == plex_history.OWNER_ACCOUNT_ID]


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


def _resolve_open(rt: Any, ledger: PlayLedger) -> int:
    """Scrobbles a crash left open: done if Plex's history has their echo, else sent again."""
    sent = 0
    for scene_id, played_at, seq, rating_key, sent_at in ledger.open_scrobbles():
        rows = plex_history.play_history(rt.plex, rating_key=rating_key, account_id=plex_history.OWNER_ACCOUNT_ID,
                                         since=int(sent_at - ECHO_WINDOW_SECONDS))
        ledger.claim_echoes(echo_rows(rows), ECHO_WINDOW_SECONDS)
        if not ledger.echoed(scene_id, played_at, seq):
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
