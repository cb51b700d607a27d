"""Plays from Plex into Stash, under the exactly-once rule (sync_queue.ledgers.plays): each play of a linked item
becomes one Stash play at its time, and the owner's resume point the scene's resume time.

Ratings (``ratings_from_plex``, worker.viewing.ratings) come from the library list views the resume points do.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from plex import history as plex_history
from plex.errors import PlexSyncError
from sync_queue.ledgers.plays import DONE, GONE, Play, PlayLedger, play_key, played_item
from validation.stash_log import get_logger
from worker.viewing import stash_calls as play_stash
from worker.viewing.ratings import KEEP_STASH, RatingReport, import_ratings, preview_ratings
from worker.viewing.scrobbles import scrobble_stash_plays
from worker.stash.reader import StashDataError, StashError, StashTooOld
from worker.sync.write_safety import LinkCheck

log = get_logger("plays")

# Each account's history is read from its watermark (the newest viewedAt read) minus this: plays can reach Plex's
# history late (a client that synced offline); plays seen again are known by their key.
OVERLAP_S = 6 * 3600
FULL_READ_THRESHOLD = 50  # more newly linked items than this: read the whole history once instead
LAST_RUN_KEY = "plex_plays_last_run"
PREVIEW_LOGGED = 20  # ratings named one per line in a preview's Info lines


class PlaysBusy(RuntimeError):
    """Another process is importing plays right now."""


@dataclass
class PlayReport:
    imported: int = 0
    scenes: set[int] = field(default_factory=set)
    resume_points: int = 0
    already_in_stash: int = 0
    seen: int = 0
    scrobbled: int = 0
    accounts: list[str] = field(default_factory=list)
    ratings: RatingReport | None = None  # with ratings_from_plex

    def summary(self) -> str:
        if not self.accounts and self.ratings is not None:  # the worker's period with ratings alone
            return f"Imported {rating_words(self.ratings)} from Plex"
        plays = "play" if self.imported == 1 else "plays"
        scenes = "scene" if len(self.scenes) == 1 else "scenes"
        points = "resume point" if self.resume_points == 1 else "resume points"
        ratings = f"; {rating_words(self.ratings)}" if self.ratings is not None else ""
        return (f"Imported {self.imported} {plays} for {len(self.scenes)} {scenes} from Plex; "
                f"{self.resume_points} {points}{ratings}")

    def as_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "scenes": len(self.scenes), "resume_points": self.resume_points,
                "already_in_stash": self.already_in_stash, "plex_plays_seen": self.seen, "accounts": self.accounts,
                "sent_to_plex": self.scrobbled,
                **({"ratings": self.ratings.as_dict()} if self.ratings is not None else {}),
                "message": self.summary()}


def rating_words(ratings: RatingReport) -> str:
    """'3 ratings (1 cleared), 1 newer Stash rating kept'."""
    text = f"{ratings.imported} rating{'' if ratings.imported == 1 else 's'}"
    text += f" ({ratings.cleared} cleared)" if ratings.cleared else ""
    if ratings.kept_stash:
        text += f", {ratings.kept_stash} newer Stash rating{'' if ratings.kept_stash == 1 else 's'} kept"
    return text


def account_names(setting: str) -> list[str]:
    return [name.strip() for name in (setting or "").split(",") if name.strip()]


# -- reading Plex ---------------------------------------------------------------------------------

def _links(linked: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Plex ratingKey → the scenes linked to it (the store knows which item each synced scene is)."""
    links: dict[int, list[int]] = defaultdict(list)
    for state in linked:
        links[int(state["rating_key"])].append(int(state["scene_id"]))
    return links


def _listed_states(rt: Any, links: dict[int, list[int]]) -> dict[int, plex_history.ItemState]:
    """What each library's list view shows of the linked items: resume points and ratings from one listing."""
    return {state.rating_key: state for section in rt.sections
            for state in plex_history.item_states(rt.plex, section.id) if state.rating_key in links}


def _read_history(rt: Any, ledger: PlayLedger, accounts: dict[int, str],
                  links: dict[int, list[int]]) -> tuple[list[plex_history.HistoryEntry], dict[int, int]]:
    marks = ledger.watermarks()
    uncovered = set(links) - ledger.covered_items()
    full = len(uncovered) > FULL_READ_THRESHOLD
    entries: list[plex_history.HistoryEntry] = []
    for account_id in accounts:
        since_stamp = None if full or account_id not in marks else marks[account_id] - OVERLAP_S
        for section in rt.sections:
            entries += plex_history.play_history(rt.plex, account_id=account_id, section_id=section.id,
                                                 since_stamp=since_stamp)
    if not full and any(account_id in marks for account_id in accounts):
        for rating_key in sorted(uncovered):  # linked since the last run: its older plays are before the mark
            entries += [entry for entry in plex_history.play_history(rt.plex, rating_key=rating_key)
                        if entry.account_id in accounts]
    newest = {account_id: max((e.viewed_stamp for e in entries if e.account_id == account_id), default=0)
              for account_id in accounts}
    return entries, {account_id: mark for account_id, mark in newest.items() if mark}


def _plays(entries: list[plex_history.HistoryEntry], links: dict[int, list[int]],
           accounts: dict[int, str]) -> set[Play]:
    return {Play(play_key(entry.rating_key, entry.account_id, entry.viewed_stamp), scene_id, entry.viewed_stamp)
            for entry in entries if entry.account_id in accounts
            for scene_id in links.get(entry.rating_key, ())}


# -- writing Stash --------------------------------------------------------------------------------

def _import_scene(rt: Any, ledger: PlayLedger, scene_id: int, intents: list[Play], in_stash: Any,
                  report: PlayReport) -> None:
    """One scene's open intents, settled by the exactly-once rule (sync_queue.ledgers.plays): a time Stash has
    more often than the plays marked done there is marked done; the rest go in one ``sceneAddPlay``."""
    spare = in_stash - ledger.done_times(scene_id)
    present, missing = [], []
    for play in intents:
        if spare[play.viewed_stamp] > 0:
            spare[play.viewed_stamp] -= 1
            present.append(play)
        else:
            missing.append(play)
    if missing:
        play_stash.add_plays(rt.stash, scene_id, [play.viewed_stamp for play in missing])
    ledger.settle(present + missing, DONE)
    report.imported += len(missing)
    report.already_in_stash += len(present)
    if missing:
        report.scenes.add(scene_id)


def _checked_intents(ledger: PlayLedger, check: LinkCheck, scene_ids: list[int]) -> dict[int, list[Play]]:
    """Each scene's open intents that may be written (the write-safety rule: the played item still holds the
    scene's file, or Plex no longer has it); the others were plays of another file, and are settled gone."""
    intents = {scene_id: ledger.intents(scene_id) for scene_id in scene_ids}
    links = {(scene_id, played_item(play.play_key)) for scene_id, plays in intents.items() for play in plays}
    trusted = check.playable(links)
    for scene_id, plays in intents.items():
        other = [play for play in plays if (scene_id, played_item(play.play_key)) not in trusted]
        if other:
            ledger.settle(other, GONE)
            log.info("Scene %s: %d Plex play%s not imported: made on an item that holds another file now", scene_id,
                     len(other), "" if len(other) == 1 else "s")
            intents[scene_id] = [play for play in plays if play not in other]
    return intents


def _send_intents(rt: Any, ledger: PlayLedger, check: LinkCheck, token: str, report: PlayReport) -> None:
    open_ids = ledger.open_scene_ids()
    for start in range(0, len(open_ids), play_stash.IDS_PER_REQUEST):
        chunk = open_ids[start:start + play_stash.IDS_PER_REQUEST]
        histories = play_stash.scene_play_times(rt.stash, chunk)
        for scene_id in chunk:
            if scene_id not in histories:  # deleted in Stash: nowhere to put the play
                ledger.settle(ledger.intents(scene_id), GONE)
        intents = _checked_intents(ledger, check, [scene_id for scene_id in chunk if scene_id in histories])
        for scene_id, plays in intents.items():
            try:
                _import_scene(rt, ledger, scene_id, plays, histories[scene_id], report)
            except StashDataError as exc:
                log.warning("Stash refused the plays of scene %s (kept for the next run): %s", scene_id, exc)
        ledger.renew(token)


def _resume_changes(ledger: PlayLedger, check: LinkCheck, links: dict[int, list[int]],
                    states: dict[int, plex_history.ItemState]) -> list[tuple[int, int, int, int]]:
    """(scene, ratingKey, offset written last, offset now) of resume points that changed in Plex since we last
    wrote them (ms; 0 once the item was finished or reset), through links whose item holds the scene's file.
    Plex shows only the token owner's resume points."""
    written = ledger.resume_offsets()
    changes = [(scene_id, rating_key, written.get(scene_id, 0), state.view_offset_ms)
               for rating_key, state in states.items() for scene_id in links.get(rating_key, ())
               if state.view_offset_ms != written.get(scene_id, 0)]
    held = check.holding((scene_id, rating_key) for scene_id, rating_key, _, _ in changes)
    return [change for change in changes if change[:2] in held]


def _import_resume_points(rt: Any, ledger: PlayLedger, check: LinkCheck, links: dict[int, list[int]],
                          states: dict[int, plex_history.ItemState], report: PlayReport) -> None:
    """The owner's ``viewOffset`` (ms) → ``resume_time`` (s)."""
    for scene_id, rating_key, _, offset_ms in _resume_changes(ledger, check, links, states):
        play_stash.save_resume(rt.stash, scene_id, offset_ms / 1000.0)
        ledger.record_resume(scene_id, rating_key, offset_ms)
        report.resume_points += 1


def _import_history(rt: Any, ledger: PlayLedger, check: LinkCheck, token: str, links: dict[int, list[int]],
                    accounts: dict[int, str], report: PlayReport) -> None:
    entries, marks = _read_history(rt, ledger, accounts, links)
    # Marking played writes no history row (PMS 1.40+), so every row is a play made in Plex; only rows an earlier
    # version took for its scrobbles' echoes (older PMS) stay out: the no-echo rule, worker.viewing.scrobbles.
    echoes = ledger.echo_keys()
    plays = {play for play in _plays(entries, links, accounts) if play.play_key not in echoes}
    report.seen = len(plays)
    ledger.note(plays, marks, covered=links)
    _send_intents(rt, ledger, check, token, report)


def import_plays(rt: Any, *, plays: bool = True) -> PlayReport:
    """Read new plays and resume points (and, with ``ratings_from_plex``, ratings) from Plex and put them into
    Stash; ``plays=False``: the ratings alone. Raises PlaysBusy, PlexSyncError, StashError (whatever was done
    before stays done)."""
    if rt.stash is None:
        raise StashError("Importing plays needs Stash: run it from Stash, or pass --stash-url (PLEXSYNC_STASH_URL)")
    if plays:
        play_stash.require_play_history(rt.stash)
    ledger = PlayLedger(rt.store)
    token = ledger.acquire(os.getpid())
    if token is None:
        raise PlaysBusy("Another PlexSync process is importing Plex plays right now; try again in a minute")
    try:
        accounts = plex_history.account_ids(rt.plex, account_names(rt.config.plex_play_accounts)) if plays else {}
        report = PlayReport(accounts=list(accounts.values()))
        linked = rt.store.linked_scenes()
        links, check = _links(linked), LinkCheck(rt)
        if plays:
            _import_history(rt, ledger, check, token, links, accounts, report)
        owner = plex_history.OWNER_ACCOUNT_ID in accounts
        if owner or rt.config.ratings_from_plex:
            states = _listed_states(rt, links)
            if owner:
                _import_resume_points(rt, ledger, check, links, states, report)
            if rt.config.ratings_from_plex:
                report.ratings = import_ratings(rt, linked, states, check, renew=lambda: ledger.renew(token))
        if plays and rt.config.scrobble_stash_plays:
            report.scrobbled = scrobble_stash_plays(rt, ledger, links, check)
        rt.store.set_json(LAST_RUN_KEY, time.time())
        return report
    finally:
        ledger.release(token)


# -- what an import would change ----------------------------------------------------------------------

def preview_import(rt: Any) -> dict[str, Any]:
    """The import's decisions under the dry-run rule (worker.tasks.preview): plays not in the ledger yet, resume
    points and (with ``ratings_from_plex``) ratings that would change."""
    if rt.stash is None:
        raise StashError("Importing plays needs Stash: run it from Stash, or pass --stash-url (PLEXSYNC_STASH_URL)")
    ledger = PlayLedger(rt.store)
    accounts = plex_history.account_ids(rt.plex, account_names(rt.config.plex_play_accounts))
    linked = rt.store.linked_scenes()
    links = _links(linked)
    entries, _ = _read_history(rt, ledger, accounts, links)
    echoes = ledger.echo_keys()
    check = LinkCheck(rt, dry_run=True)
    new = ledger.unknown(play for play in _plays(entries, links, accounts) if play.play_key not in echoes)
    trusted = check.playable((play.scene_id, played_item(play.play_key)) for play in new)
    new = [play for play in new if (play.scene_id, played_item(play.play_key)) in trusted]
    owner = plex_history.OWNER_ACCOUNT_ID in accounts
    states = _listed_states(rt, links) if owner or rt.config.ratings_from_plex else {}
    resume = [{"scene_id": scene_id, "rating_key": key, "from_seconds": old_ms / 1000, "to_seconds": now_ms / 1000}
              for scene_id, key, old_ms, now_ms in (_resume_changes(ledger, check, links, states) if owner else [])]
    ratings = [asdict(item) for item in preview_ratings(rt, linked, states, check)] \
        if rt.config.ratings_from_plex else None
    result = {"dry_run": True, "plays": len(new), "play_scenes": sorted({play.scene_id for play in new}),
              "resume_points": resume, "accounts": list(accounts.values())}
    if ratings is not None:
        result["ratings"] = ratings
    result["message"] = (f"Preview (nothing was written): an import would add {len(new)} "
                         f"play{'' if len(new) == 1 else 's'} to {len(result['play_scenes'])} scenes, change "
                         f"{len(resume)} resume point{'' if len(resume) == 1 else 's'}"
                         + (f" and {len(ratings)} rating{'' if len(ratings) == 1 else 's'}"
                            if ratings is not None else ""))
    return result


def import_preview_lines(result: dict[str, Any], named: int | None = PREVIEW_LOGGED) -> list[str]:
    """Each rating that would change (the first ``named``; None: all), then the totals."""
    ratings = result.get("ratings") or []
    lines = []
    for item in ratings if named is None else ratings[:named]:
        after = "kept (Plex gets Stash's)" if item["action"] == KEEP_STASH else f"→ {item['stash_after']}"
        lines.append(f"Scene {item['scene_id']}: rating {item['stash_before']} {after}"
                     + (f" ({item['why']})" if item["why"] else ""))
    return lines + [result["message"]]


def log_import_preview(result: dict[str, Any]) -> None:
    for line in import_preview_lines(result):
        log.info("%s", line)


# -- entry points ---------------------------------------------------------------------------------

def import_plays_task(rt: Any, ctx: Any) -> dict[str, Any]:
    """The task and CLI command; runs whether or not the automatic import is switched on. ``args.dry_run``:
    what an import would change, nothing written (``import-plays --dry-run``)."""
    if str(ctx.args.get("dry_run", "")).strip().lower() in ("1", "true", "yes", "on"):
        result = preview_import(rt)
        log_import_preview(result)
        return result
    try:
        report = import_plays(rt)
    except PlaysBusy as exc:
        log.info("%s", exc)
        return {"imported": 0, "skipped": str(exc)}
    except StashTooOld as exc:
        log.warning("%s", exc)
        return {"imported": 0, "skipped": str(exc)}
    log.info("%s", report.summary())
    output = report.as_dict()
    if report.ratings is not None and report.ratings.kept_stash:  # queued so the push gives Plex Stash's rating
        from worker.tasks.context import continue_in_background

        output["background_worker"] = continue_in_background(ctx, rt.store)
    return output


def import_plays_if_due(rt: Any) -> None:
    """The background worker's periodic import: on when ``import_plex_plays`` or ``ratings_from_plex`` is (the
    latter alone: ratings only), at most every ``import_plays_minutes``; a failure is logged and waits for the
    next period (it never stops the sync)."""
    config = rt.config
    if not (config.import_plex_plays or config.ratings_from_plex) or rt.stash is None:
        return
    last_run_s = float(rt.store.get_json(LAST_RUN_KEY, 0) or 0)
    if time.time() - last_run_s < config.import_plays_minutes * 60:
        return
    rt.store.set_json(LAST_RUN_KEY, time.time())  # a failing import waits a period, not 30 s
    try:
        report = import_plays(rt, plays=config.import_plex_plays)
    except PlaysBusy:
        return
    except (PlexSyncError, StashError) as exc:
        log.warning("Importing Plex plays failed (next try in %d minutes): %s", config.import_plays_minutes, exc)
        return
    ratings = report.ratings
    if report.imported or report.resume_points or (ratings is not None and (ratings.imported or ratings.kept_stash)):
        log.info("%s", report.summary())
