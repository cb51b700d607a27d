"""Preview Sync (no changes): what a sync would write, per scene and field, old → new.

**The dry-run rule.** A preview writes nothing but its own result (kept for the page): no Plex PUT or POST, no
change to queue state or ledgers (nothing is marked synced, queued or forgotten); its decisions are the sync's own
(the fingerprints, ``SyncEngine.locate``, ``SyncEngine.plan_push``), so it shows what a sync would do. Refreshing
the Plex path index is allowed: matching reads it, and it is a cache of what Plex lists, not work.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from plex.errors import AmbiguousMatch, ItemNotInPlex
from plex.metadata_fields import PHOTOS
from sync_queue.scenes import Claim
from sync_queue.schema import KV_LAST_PREVIEW
from validation.metadata import SceneDataError
from validation.stash_log import get_logger
from worker.tasks.context import TaskContext
from worker.tasks.drift import find_plex_drift
from worker.sync.engine import SyncEngine
from worker.artwork.performer_photos import key_hidden, wanted_state
from worker.process.runtime import Runtime
from worker.tasks.sync_tasks import differing_scene_ids, probe_or_fail, require_stash, open_runtime

log = get_logger("preview")

SCOPES = ("sync_all", "process_queue", "reconcile")
HYDRATE_CHUNK = 50  # the worker's batch size: the same Stash reads a sync makes
LOGGED_SCENES = 20  # Info lines a Stash user reads; the rest are in the task output and the summary
SHOWN_TEXT = 60
KEPT_FOR_PAGE = 500  # scenes of the newest preview kept for PlexSync's page (the task output has them all)
SHOWN_LEFT_OUT = 5  # left-out names in a scene's line (all of them are in the task output)
ONE_PHOTO_PER_ACTOR = ("performer photos: a Plex actor has one photo for the whole server, so writing a "
                       "performer's photo changes that actor in every library")


@dataclass
class ScenePreview:
    """One scene's would-be outcome. ``changes``: field → {"old", "new"}; ``images``: covers uploaded."""

    scene_id: int
    title: str
    outcome: str  # change | unchanged | waiting_for_plex | ambiguous | skipped | failed
    plex_item: int | None = None
    match: str | None = None
    file: str | None = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    locks: list[str] = field(default_factory=list)
    reason: str = ""
    left_out: dict[str, list[str]] = field(default_factory=dict)  # tag type → names no request could carry


def _claim_for(state: dict[str, Any] | None, scene_id: int, repush: dict[int, str | None]) -> Claim:
    """The claim a sync would take for this scene, from the store as it is now (reconcile's drift applied
    in memory only)."""
    state = state or {}
    claim = Claim(scene_id=scene_id, generation=int(state.get("generation") or 0),
                  attempts=int(state.get("attempts") or 0), lane=str(state.get("lane") or "normal"),
                  rating_key=state.get("rating_key"), section_id=state.get("section_id"),
                  push_record=state.get("push_record"), fingerprint=state.get("fingerprint"))
    if scene_id in repush:  # reconcile would drop the drifted fields (or the gone link) before syncing
        record = repush[scene_id]
        claim = claim._replace(push_record=record, fingerprint=None)
        if record is None:
            claim = claim._replace(rating_key=None, section_id=None)
    return claim


def preview_scene(engine: SyncEngine, claim: Claim, scene: dict[str, Any] | None,
                  in_plex: dict[str, Any] | None = None) -> ScenePreview:
    """What syncing ``scene`` would do, decided exactly as ``SyncEngine`` decides it, without writing.
    ``in_plex``: values just read from Plex, shown as "old" where the push diffs against nothing known."""
    if scene is None:
        return ScenePreview(claim.scene_id, "", "skipped", reason="The scene no longer exists in Stash")
    title = str(scene.get("title") or "")
    try:
        wanted = wanted_state(scene, engine.config, engine.rt.stash)
    except SceneDataError as exc:
        return ScenePreview(claim.scene_id, title, "failed", reason=str(exc))
    fingerprint = wanted.fingerprint()
    if claim.rating_key is not None and claim.fingerprint == fingerprint:
        return ScenePreview(claim.scene_id, title, "unchanged", plex_item=claim.rating_key, match="link")
    try:
        match = engine.locate(claim, scene)
    except ItemNotInPlex as exc:
        outcome = "skipped" if engine.config.skip_not_found else "waiting_for_plex"
        return ScenePreview(claim.scene_id, title, outcome, reason=str(exc))
    except AmbiguousMatch as exc:
        return ScenePreview(claim.scene_id, title, "ambiguous", reason=str(exc))
    plan = engine.plan_push(claim, match, wanted, fingerprint)
    seen = in_plex or {}
    left_out = {name: names for name, names in plan.left_out.items() if name in plan.changes}
    changes = {name: {"old": key_hidden(plan.base[name] if name in plan.base else seen.get(name)),
                      "new": key_hidden(_sent(value, left_out.get(name)))}
               for name, value in sorted(plan.changes.items())}
    outcome = "change" if changes or plan.uploads or plan.locks else "unchanged"
    reason = "; ".join(f"{kind} left out: {why}" for kind, why in plan.unusable.items())
    return ScenePreview(claim.scene_id, title, outcome, plex_item=match.rating_key, match=match.method,
                        file=match.file, changes=changes, images=plan.image_kinds, locks=list(plan.locks),
                        reason=reason, left_out=left_out)


def _sent(value: Any, left_out: list[str] | None) -> Any:
    """What Plex would get of a list cut to the request limit (the start of it; the rest is ``left_out``)."""
    return value[:len(value) - len(left_out)] if left_out else value


def plex_side_repush(rt: Runtime, in_plex: dict[int, dict[str, Any]]) -> dict[int, str | None]:
    """Reconcile's drift, read only: scene → its push record without the fields changed in Plex (None when
    its Plex item is gone); ``in_plex`` gets the changed values Plex shows. Nothing is stored."""
    if rt.config.preserve_plex_edits:
        return {}  # Plex-side edits are the user's to keep
    drift = find_plex_drift(rt)
    in_plex.update(drift.in_plex)
    return {**drift.repush, **{scene_id: None for scene_id in drift.gone}}


def _scene_ids_in_scope(rt: Runtime, scope: str,
                        in_plex: dict[int, dict[str, Any]]) -> tuple[list[int], int, dict[int, str | None]]:
    """(scene ids a real run would sync, scenes looked at, reconcile's in-memory drift)."""
    if scope == "process_queue":
        pending = sorted(rt.store.queued_scene_ids())
        return pending, len(pending), {}
    changed, seen = differing_scene_ids(rt, require_stash(rt).iter_scenes(per_page=1000))
    repush = plex_side_repush(rt, in_plex) if scope == "reconcile" else {}
    return sorted(set(changed) | set(repush)), seen, repush


def build_preview(rt: Runtime, scope: str, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    stash = require_stash(rt)
    probe_or_fail(rt)
    in_plex: dict[int, dict[str, Any]] = {}
    scene_ids, seen, repush = _scene_ids_in_scope(rt, scope, in_plex)
    engine = SyncEngine(rt)
    requests_before = rt.plex_requests()
    previews: list[ScenePreview] = []
    for start in range(0, len(scene_ids), HYDRATE_CHUNK):
        chunk = scene_ids[start:start + HYDRATE_CHUNK]
        scenes = stash.scenes_by_ids(chunk)
        for scene_id in chunk:
            claim = _claim_for(rt.store.scene_state(scene_id), scene_id, repush)
            previews.append(preview_scene(engine, claim, scenes.get(scene_id), in_plex.get(scene_id)))
        if progress is not None:
            progress(min(1.0, (start + len(chunk)) / len(scene_ids)))
    return summarize(scope, seen, previews, rt.plex_requests() - requests_before)


def summarize(scope: str, seen: int, previews: list[ScenePreview], reads: int) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    for item in previews:
        outcomes[item.outcome] = outcomes.get(item.outcome, 0) + 1
    changing = [item for item in previews if item.outcome == "change"]
    return {
        "dry_run": True,
        "scope": scope,
        "scanned": seen,
        "would_change": len(changing),
        "fields_changed": sum(len(item.changes) for item in changing),
        "images_uploaded": sum(len(item.images) for item in changing),
        "unchanged": seen - len(previews) + outcomes.get("unchanged", 0),  # not differing, or same plan
        "outcomes": outcomes,
        "plex_reads": reads,
        "plex_writes": 0,
        "scenes": [asdict(item) for item in previews if item.outcome != "unchanged"],
    }


# -- words ------------------------------------------------------------------------------------

def shown(value: Any) -> str:
    """A value as a person reads it in one line: lists joined, long text cut, empty said as such."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return repr(text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…")


def scene_line(item: dict[str, Any]) -> str:
    """One scene in words, e.g. ``Scene 12 → Plex item 7 (path): title 'a' → 'b'; poster: new image``."""
    head = f"Scene {item['scene_id']}" + (f" {item['title']!r}" if item.get("title") else "")
    if item["outcome"] != "change":
        return f"{head}: {item['outcome'].replace('_', ' ')}: {item.get('reason') or 'nothing to write'}"
    parts = [f"{name} {shown(change['old'])} → {shown(change['new'])}" for name, change in item["changes"].items()]
    parts += [f"{'poster' if kind == 'poster' else 'background'}: new image" for kind in item["images"]]
    parts += [f"{name}: {counted(len(names), 'name')} left out (longer than one request Plex takes): "
              f"{shown(names[:SHOWN_LEFT_OUT])}{' …' if len(names) > SHOWN_LEFT_OUT else ''}"
              for name, names in (item.get("left_out") or {}).items()]
    if not parts and item["locks"]:
        parts.append(f"lock {', '.join(item['locks'])} (values already right)")
    return f"{head} → Plex item {item['plex_item']} ({item['match']}): " + "; ".join(parts)


def total_line(result: dict[str, Any]) -> str:
    others = {name: count for name, count in result["outcomes"].items() if name not in ("change", "unchanged")}
    extra = "".join(f"; {count} {name.replace('_', ' ')}" for name, count in sorted(others.items()))
    photos = any(PHOTOS in item.get("changes", {}) for item in result["scenes"])
    return (f"Preview (nothing was written): {result['would_change']} of {result['scanned']} scenes would change, "
            f"{counted(result['fields_changed'], 'field')} and {counted(result['images_uploaded'], 'image')}; "
            f"{result['unchanged']} unchanged{extra}" + (f". Note on {ONE_PHOTO_PER_ACTOR}" if photos else ""))


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def log_preview(result: dict[str, Any]) -> None:
    """What a Stash user sees at Info: the first scenes, one line each, then the total."""
    scenes = result["scenes"]
    for item in scenes[:LOGGED_SCENES]:
        log.info("%s", scene_line(item))
    if len(scenes) > LOGGED_SCENES:
        log.info("… and %d more scenes (all of them are in the task output)", len(scenes) - LOGGED_SCENES)
    log.info("%s", total_line(result))


def run_preview(ctx: TaskContext) -> dict[str, Any]:
    """The ``preview`` task (and ``--dry-run``): ``args.scope`` is one of SCOPES (default sync_all)."""
    scope = str(ctx.args.get("scope") or "sync_all").strip()
    if scope not in SCOPES:
        raise ValueError(f"preview: 'scope' must be one of {', '.join(SCOPES)}, got {scope!r}")
    rt = open_runtime(ctx)
    try:
        result = build_preview(rt, scope, ctx.progress)
        remember_preview(rt.store, result)
    finally:
        rt.close()
    log_preview(result)
    return result


def remember_preview(store: Any, result: dict[str, Any]) -> None:
    """Keep the newest preview (the first scenes of it) for PlexSync's page, which shows it as a table: the
    page starts the task through Stash's job queue and reads the result from here afterwards."""
    store.set_json(KV_LAST_PREVIEW, {"at": time.time(), "summary": total_line(result),
                                     "scenes": result["scenes"][:KEPT_FOR_PAGE],
                                     "more": max(0, len(result["scenes"]) - KEPT_FOR_PAGE)})
