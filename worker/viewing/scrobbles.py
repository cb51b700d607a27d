"""Plays recorded in Stash mark the linked Plex item watched (``scrobble_stash_plays``, off by default); looked
for whenever plays are imported, since Stash fires no plugin hook for plays (stash-protocol.md).

**The no-echo rule.** No play goes round the loop Stash → Plex → Stash, by construction rather than by timing:

- a Stash play reaches Plex only as "mark played" (``/:/scrobble``), which from Plex Media Server 1.40.0.7998 changes
  the item's ``viewCount`` and ``lastViewedAt`` and writes no history row (python-plexapi PR #1366). The import
  reads only history rows, so nothing a scrobble did can come back into Stash, whatever fails or retries;
- an older server would write a row no different from a real play: nothing is sent to it (one Info line says why);
- a Stash play that PlexSync imported from Plex (its time is in the play ledger) is never sent to Plex.

Only plays after the switch was first seen on are sent. Each is written down before Plex is asked and marked done
after; one left open by an earlier run (Plex refused it, or a crash) is done when the item shows a view since,
else sent again: only Plex's view count can be off by one. Every mark follows the write-safety rule.
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
from worker.sync.write_safety import LinkCheck

log = get_logger("scrobbles")

STASH_MARGIN_SECONDS = 600
MARK_KEY = "stash_plays_mark"  # kv: {"since": epoch switched on, "text": newest last_played_at seen}
OLD_PLEX_KEY = "stash_plays_old_plex"  # kv: the Plex version last told it gets no Stash plays
PER_PAGE = 500

RECENTLY_PLAYED = """
query PlexSyncRecentlyPlayed($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) {
    count scenes { id last_played_at play_history files { path size } }
  }
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


def _taken(item: Any, noted_at_s: float) -> bool:
    """Did Plex take a scrobble left open? Yes when the owner's last view of ``item`` (a detail view just read) is
    stamped since the moment it was written down, by Plex's clock."""
    count, seen = item._data.attrib.get("viewCount", ""), item._data.attrib.get("lastViewedAt", "")
    return count.isdigit() and int(count) > 0 and seen.isdigit() and stamped_since(int(seen), noted_at_s)


def _send_open(rt: Any, ledger: PlayLedger, check: LinkCheck, by_scene: dict[int, int],
               scenes: dict[int, dict[str, Any]], run_started_s: float) -> int:
    """Send every scrobble written down and not done, each after its item's check; one written down by an
    earlier run is done without sending when Plex shows it took it (a crash after Plex answered)."""
    rows = ledger.open_scrobbles()
    unread = {int(row[0]) for row in rows} - scenes.keys()
    if unread:
        scenes = {**scenes, **rt.stash.scenes_by_ids(unread)}
    targets = {(scene_id, by_scene[scene_id]) for scene_id, *_ in rows if scene_id in scenes and scene_id in by_scene}
    held, sent = check.holding(targets, scenes), 0
    for scene_id, played_at, seq, noted_key, noted_at_s in rows:
        if scene_id not in scenes:  # deleted from Stash: nothing left to send it for
            ledger.scrobble_done(scene_id, played_at, seq)
            continue
        rating_key = by_scene.get(scene_id)
        item = held.get((scene_id, rating_key)) if rating_key is not None else None
        if item is None:
            continue  # waits for the scene's next link
        earlier = noted_at_s < run_started_s and rating_key == noted_key
        if not (earlier and _taken(item, noted_at_s)):
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


def scrobble_stash_plays(rt: Any, ledger: PlayLedger, links: dict[int, list[int]], check: LinkCheck) -> int:
    """Send new Stash plays of linked scenes to Plex; returns how many scrobbles Plex took. ``check``: the
    import's link check (an item already read this run is not read again)."""
    if not _plex_keeps_marks_out_of_history(rt):
        return 0
    mark = rt.store.get_json(MARK_KEY, None)
    if mark is None:
        rt.store.set_json(MARK_KEY, _first_mark(rt))
        log.info("Stash plays from now on mark their Plex items watched")
        return 0
    run_started_s = time.time()
    by_scene = {scene_id: rating_key for rating_key, scene_ids in links.items() for scene_id in scene_ids}
    newest, scenes = mark["text"], {}
    for scene in _recently_played(rt, watermark_with_margin(mark["text"], STASH_MARGIN_SECONDS)):
        newest = max(newest, scene["last_played_at"] or newest)
        scene_id = int(scene["id"])
        if scene_id in by_scene:
            scenes[scene_id] = scene
            for played_at in _new_stash_plays(ledger, scene, int(mark["since"])):
                ledger.note_scrobble(scene_id, played_at, by_scene[scene_id])
    rt.store.set_json(MARK_KEY, {**mark, "text": newest})  # every new play is written down: the mark moves on
    return _send_open(rt, ledger, check, by_scene, scenes, run_started_s)
