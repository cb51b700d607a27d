"""Reconcile's Plex side, read only: which linked items someone changed in Plex, and which are gone.

Cost: one paged list view per library, never a request per item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plex.library_index import list_item_summaries
from plex.metadata_fields import same
from plex.metadata_writer import PushRecord

# titleSort and contentRating are in a push record only when their options wrote them; the list view carries both
# (plexapi's Video._loadData reads them from it). A titleSort Plex no longer has reads as the title (absent).
DRIFT_FIELDS = ("title", "summary", "tagline", "studio", "year", "originallyAvailableAt", "userRating", "titleSort",
                "contentRating")


@dataclass
class PlexDrift:
    repush: dict[int, str] = field(default_factory=dict)  # scene → its push record minus the changed fields
    in_plex: dict[int, dict[str, Any]] = field(default_factory=dict)  # scene → those fields as Plex shows them
    gone: list[int] = field(default_factory=list)  # scenes whose linked item Plex no longer lists


def drifted_fields(record: PushRecord, plex_fields: dict[str, str]) -> list[str]:
    """Compared the way the writer compares (``8.0`` written is ``8`` in Plex's list view: no drift)."""
    return [name for name in DRIFT_FIELDS if name in record.snapshot
            and not same(name, record.snapshot[name], plex_fields.get(name))]


def find_plex_drift(rt: Any) -> PlexDrift:
    """Linked scenes whose Plex item is gone, or whose synced fields someone changed in Plex."""
    by_key = {state["rating_key"]: state for state in rt.store.linked_scenes()}
    seen_keys: set[int] = set()
    drift = PlexDrift()
    for section in rt.sections:
        for summary in list_item_summaries(rt.plex, section.id):
            state = by_key.get(summary.rating_key)
            if state is None or not state["push_record"]:
                continue
            seen_keys.add(summary.rating_key)
            record = PushRecord.from_json(state["push_record"])
            changed = drifted_fields(record, summary.fields)
            if changed:
                record.snapshot = {k: v for k, v in record.snapshot.items() if k not in changed}
                drift.repush[state["scene_id"]] = record.to_json()
                drift.in_plex[state["scene_id"]] = {name: summary.fields.get(name) for name in changed}
    drift.gone = [state["scene_id"] for key, state in by_key.items() if key not in seen_keys]
    return drift
