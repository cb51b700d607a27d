"""Ratings from Plex into Stash (``ratings_from_plex``): the Plex owner's star rating of a linked item becomes the
scene's ``rating100``; a rating cleared in Plex clears it.

**The baseline rule.** Only the side that moved from the baseline moves the other. The baseline is the rating
PlexSync last wrote to Plex (the push record's ``userRating``) or last read from Plex and agreed with
(sync_queue.ledgers.ratings), whichever it learned last. Plex moved → Stash gets Plex's (here); Stash moved → the
ordinary push carries it; both moved → the newer wins (Plex's ``lastRatedAt`` against Stash's ``updated_at``, by
the clock rule, validation.clocks), the choice is logged, and a newer Stash rating is queued for the push. An
imported rating is recorded in the push record as what the push would write, so the update hook Stash runs for
our own write sends nothing back. Values compare on Stash's scale (whole numbers 0–100), so a Plex rating finer
than a tenth of a star never looks changed after its import.

Costs: the library list views the play import reads anyway, one detail GET per 50 ratings about to be written
(the write-safety rule), and Stash is asked only about scenes whose Plex rating moved (200 a request). Across
crashes: the exactly-once rule, sync_queue.ledgers.plays.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping

from plex.history import ItemState
from sync_queue.ledgers.ratings import NOT_RATED, RatingLedger, RatingRow, RecordRewrite, Settle
from validation.clocks import plex_later
from validation.stash_log import get_logger
from worker.viewing.stash_calls import epoch_of
from worker.stash.reader import StashDataError, StashReader
from worker.sync.write_safety import LinkCheck

log = get_logger("ratings")

IDS_PER_REQUEST = 200
IMPORT, AGREE, KEEP_STASH = "import", "agree", "keep_stash"

SCENE_RATINGS = """
query PlexSyncSceneRatings($ids: [ID!]) {
  findScenes(ids: $ids, filter: {per_page: -1}) { count scenes { id rating100 updated_at } }
}
"""

SET_RATING = """
mutation PlexSyncSetRating($input: SceneUpdateInput!) {
  sceneUpdate(input: $input) { id rating100 updated_at }
}
"""

RATING_DOCUMENTS = {"SCENE_RATINGS": SCENE_RATINGS, "SET_RATING": SET_RATING}


# -- the two scales -------------------------------------------------------------------------------

def plex_rating(rating100: int | None) -> float | None:
    """Stash → Plex, as ``validation.metadata`` writes it: a tenth of ``rating100``, one decimal."""
    return None if rating100 is None else round(rating100 / 10, 1)


def stash_rating(user_rating: float | None) -> int | None:
    """Plex → Stash, the exact inverse of :func:`plex_rating` (half up, 0–100): ``plex_rating`` of the result
    gives the Plex value back for every value ``plex_rating`` makes, so a round trip is stable."""
    if user_rating is None:
        return None
    return min(100, max(0, int(math.floor(user_rating * 10 + 0.5))))


def rating_text(user_rating: float | None) -> str:
    return NOT_RATED if user_rating is None else f"{user_rating:g}"


def rating_value(text: str | None) -> float | None:
    return None if not text else float(text)


# -- what PlexSync knows of each linked scene -----------------------------------------------------

@dataclass(frozen=True)
class Linked:
    scene_id: int
    rating_key: int
    pushed: tuple[bool, float | None]  # (the push record holds a userRating, that value)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], pushes_ratings: bool) -> Linked:
        """``pushes_ratings``: ratings are written to Plex (not ``skip_rating``); otherwise the push record's
        rating is whatever an earlier push left there, not what Plex was last given."""
        rating_key = int(state["rating_key"])
        pushed = _pushed_rating(state.get("push_record"), rating_key) if pushes_ratings else (False, None)
        return cls(int(state["scene_id"]), rating_key, pushed)


def _pushed_rating(text: str | None, rating_key: int) -> tuple[bool, float | None]:
    """The rating the push record says Plex was given; not known when ratings are not written (``skip_rating``)
    or the record describes another item."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return False, None
    snapshot = data.get("snapshot") if isinstance(data, dict) else None
    if not isinstance(snapshot, dict) or "userRating" not in snapshot or data.get("rating_key") != rating_key:
        return False, None
    value = snapshot["userRating"]
    return True, float(value) if isinstance(value, (int, float)) else None


def baseline(link: Linked, row: RatingRow | None) -> tuple[bool, float | None]:
    """The rating both sides last agreed on: the push record's (every push and every import updates it), else
    the one the ledger last read from Plex; (False, None) when PlexSync has never seen one."""
    if link.pushed[0]:
        return link.pushed
    if row is not None and row.rating_key == link.rating_key and row.seen_rating is not None:
        return True, rating_value(row.seen_rating)
    return False, None


def agreeing_record(user_rating: float | None) -> RecordRewrite:
    """A push record rewritten to say Plex was given ``user_rating`` (records without a rating stay as they are)."""
    def rewrite(text: str) -> str:
        data = json.loads(text)
        snapshot = data.get("snapshot") if isinstance(data, dict) else None
        if not isinstance(snapshot, dict) or "userRating" not in snapshot:
            return text
        snapshot["userRating"] = user_rating
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    return rewrite


# -- deciding --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StashRating:
    rating100: int | None
    updated_stamp: int  # the scene's updated_at, epoch seconds on Stash's clock


@dataclass
class RatingDecision:
    scene_id: int
    rating_key: int
    action: str  # import | agree | keep_stash
    plex: float | None  # Plex's rating now
    stash_before: int | None
    stash_after: int | None
    why: str = ""


def plex_moved(state: ItemState, base: tuple[bool, float | None]) -> bool:
    known, value = base
    if not known:
        return state.user_rating is not None
    return stash_rating(state.user_rating) != stash_rating(value)


def decide(link: Linked, state: ItemState, base: tuple[bool, float | None], stash: StashRating) -> RatingDecision:
    """What to do with a scene whose Plex rating moved away from the baseline."""
    target = stash_rating(state.user_rating)
    made = RatingDecision(link.scene_id, link.rating_key, IMPORT, state.user_rating, stash.rating100, target)
    if stash.rating100 == target:
        made.action, made.stash_after = AGREE, stash.rating100
        return made
    known, value = base
    stash_moved = stash.rating100 != stash_rating(value) if known else stash.rating100 is not None
    if not stash_moved:
        return made
    rated_stamp = state.rated_stamp or 0
    made.why = (f"changed in Stash ({_shown(stash.rating100)}, edited {_moment(stash.updated_stamp)}) and in Plex "
                f"({_shown(target)}, rated {_moment(rated_stamp) if rated_stamp else 'at an unknown time'})")
    if plex_later(rated_stamp, stash.updated_stamp):
        made.why += ": Plex's is newer"
        return made
    made.action, made.stash_after = KEEP_STASH, stash.rating100
    made.why += ": Stash's is newer, Plex gets it"
    return made


def _shown(rating100: int | None) -> str:
    return "no rating" if rating100 is None else f"{rating100}/100"


def _moment(stamp: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


# -- Stash ------------------------------------------------------------------------------------------

def stash_ratings(stash: StashReader, scene_ids: Iterable[int]) -> dict[int, StashRating]:
    """Scene id → its rating now; scenes Stash no longer has are absent."""
    wanted = [str(int(scene_id)) for scene_id in scene_ids]
    found: dict[int, StashRating] = {}
    for start in range(0, len(wanted), IDS_PER_REQUEST):
        answer = stash.call(SCENE_RATINGS, {"ids": wanted[start:start + IDS_PER_REQUEST]})
        for scene in answer["findScenes"]["scenes"]:
            found[int(scene["id"])] = StashRating(scene["rating100"], epoch_of(scene["updated_at"]))
    return found


def set_rating(stash: StashReader, scene_id: int, rating100: int | None) -> None:
    """``sceneUpdate`` with the rating only (``null`` clears it); other fields are left as they are."""
    stash.call(SET_RATING, {"input": {"id": str(scene_id), "rating100": rating100}})


# -- the import --------------------------------------------------------------------------------------

@dataclass
class RatingReport:
    imported: int = 0  # ratings put into Stash (cleared ones included)
    cleared: int = 0
    kept_stash: int = 0  # both changed and Stash's was newer
    agreed: int = 0  # Plex changed to what Stash already had
    recovered: int = 0  # left open by an interrupted run and found already in Stash
    decisions: list[RatingDecision] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["decisions"] = [asdict(item) for item in self.decisions if item.action != AGREE]
        return data


def _settle_open_intents(rt: Any, ledger: RatingLedger, rows: dict[int, RatingRow], report: RatingReport) -> bool:
    """Intents an interrupted run left, resolved by the exactly-once rule (sync_queue.ledgers.plays); one Stash no
    longer matches (never written, or a later Stash edit overtook it) is dropped and the scene judged afresh."""
    open_rows = [row for row in rows.values() if row.open]
    if not open_rows:
        return False
    current = stash_ratings(rt.stash, [row.scene_id for row in open_rows])
    done = [Settle(row.scene_id, row.rating_key, row.intent_rating or NOT_RATED,
                   agreeing_record(plex_rating(row.intent_rating100)))
            for row in open_rows if row.scene_id in current and current[row.scene_id].rating100 == row.intent_rating100]
    ledger.settle(done)
    settled = {item.scene_id for item in done}
    ledger.drop_intents([row.scene_id for row in open_rows if row.scene_id in current and row.scene_id not in settled])
    ledger.forget([row.scene_id for row in open_rows if row.scene_id not in current])
    report.recovered += len(done)
    return True


def plan_ratings(rt: Any, links: list[Linked], states: Mapping[int, ItemState],
                 rows: Mapping[int, RatingRow]) -> list[RatingDecision]:
    """Decisions for every linked scene whose Plex rating moved; reads only (Stash, for those scenes)."""
    moved = []
    for link in links:
        state = states.get(link.rating_key)
        if state is not None and plex_moved(state, base := baseline(link, rows.get(link.scene_id))):
            moved.append((link, state, base))
    current = stash_ratings(rt.stash, [link.scene_id for link, _, _ in moved]) if moved else {}
    return [decide(link, state, base, current[link.scene_id]) for link, state, base in moved
            if link.scene_id in current]


def _write(rt: Any, ledger: RatingLedger, imports: list[RatingDecision], report: RatingReport,
           renew: Callable[[], None]) -> None:
    """Intent for all, then one ``sceneUpdate`` per scene, each settled (with its push record) once Stash took it."""
    ledger.note_intents([(item.scene_id, item.rating_key, item.stash_after, rating_text(item.plex))
                         for item in imports])
    for number, item in enumerate(imports, 1):
        try:
            set_rating(rt.stash, item.scene_id, item.stash_after)
        except StashDataError as exc:
            log.warning("Stash refused the rating of scene %s (tried again next run): %s", item.scene_id, exc)
            continue
        ledger.settle([Settle(item.scene_id, item.rating_key, rating_text(item.plex),
                              agreeing_record(plex_rating(item.stash_after)))])
        report.imported += 1
        report.cleared += item.stash_after is None
        if number % 100 == 0:
            renew()


def _through_held_links(check: LinkCheck, imports: list[RatingDecision]) -> list[RatingDecision]:
    """The imports whose item holds the scene's file now (the write-safety rule, worker.sync.write_safety)."""
    held = check.holding((item.scene_id, item.rating_key) for item in imports)
    return [item for item in imports if (item.scene_id, item.rating_key) in held]


def import_ratings(rt: Any, linked_states: list[Mapping[str, Any]], states: Mapping[int, ItemState],
                   check: LinkCheck, renew: Callable[[], None] = lambda: None) -> RatingReport:
    """Bring the Plex owner's ratings of linked items into Stash by the baseline rule. ``linked_states``:
    the store's linked scenes with their push records; ``states``: ratingKey → what the list views showed."""
    ledger, report = RatingLedger(rt.store), RatingReport()
    if _settle_open_intents(rt, ledger, ledger.rows(), report):
        linked_states = rt.store.linked_scenes()  # the settled push records changed
    links = [Linked.from_state(state, rt.config.sync_rating) for state in linked_states]
    report.decisions = plan_ratings(rt, links, states, ledger.rows())
    for item in report.decisions:
        if item.why:
            log.info("Scene %s: the rating %s", item.scene_id, item.why)
    by_action = {action: [item for item in report.decisions if item.action == action]
                 for action in (IMPORT, AGREE, KEEP_STASH)}
    ledger.settle([Settle(item.scene_id, item.rating_key, rating_text(item.plex), agreeing_record(plex_rating(
        item.stash_after))) for item in by_action[AGREE]])
    # Stash's newer rating: Plex's is the baseline now, so the push sees Stash's as the change to write.
    ledger.settle([Settle(item.scene_id, item.rating_key, rating_text(item.plex), agreeing_record(item.plex))
                   for item in by_action[KEEP_STASH]])
    if by_action[KEEP_STASH] and rt.config.sync_rating:
        rt.store.queue_scenes([item.scene_id for item in by_action[KEEP_STASH]])
    report.agreed, report.kept_stash = len(by_action[AGREE]), len(by_action[KEEP_STASH])
    _write(rt, ledger, _through_held_links(check, by_action[IMPORT]), report, renew)
    return report


def preview_ratings(rt: Any, linked_states: list[Mapping[str, Any]], states: Mapping[int, ItemState],
                    check: LinkCheck) -> list[RatingDecision]:
    """What :func:`import_ratings` would change, decided the same way; nothing is written."""
    links = [Linked.from_state(state, rt.config.sync_rating) for state in linked_states]
    changes = [item for item in plan_ratings(rt, links, states, RatingLedger(rt.store).rows()) if item.action != AGREE]
    held = {(item.scene_id, item.rating_key)
            for item in _through_held_links(check, [item for item in changes if item.action == IMPORT])}
    return [item for item in changes if item.action != IMPORT or (item.scene_id, item.rating_key) in held]
