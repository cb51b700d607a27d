"""Play history, play count and resume point of the Stash emulator's scenes.

Stash (v0.25+, play history) keeps one row per play in a view-dates table; ``play_count`` is how many there are
and ``last_played_at`` the newest. From Stash's Go source (``internal/api/resolver_mutation_scene.go``,
``pkg/sqlite`` scene and history stores) and its schema (``../shared/reference/stash-schema``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graphql import GraphQLError, GraphQLSchema, ValueNode
from graphql.language import StringValueNode

from emulators.stash.data import LOCAL_OFFSET

_RELATIVE = re.compile(r"^([<>])(\d+)([smhd])$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_timestamp(value: Any) -> datetime:
    """Stash's ``Timestamp`` scalar input: RFC3339 (offset or ``Z`` required) or relative ``<4h`` / ``>5m``;
    anything else is a GraphQL error."""
    if not isinstance(value, str):
        raise GraphQLError(f"{value!r} is not a valid Timestamp: expected an RFC3339 string")
    relative = _RELATIVE.match(value)
    if relative:
        sign = -1 if relative.group(1) == "<" else 1
        return datetime.now(LOCAL_OFFSET) + sign * timedelta(seconds=int(relative.group(2)) * _UNITS[relative.group(3)])
    if not _RFC3339.match(value):
        raise GraphQLError(f"{value!r} is not a valid Timestamp: expected RFC3339 like 2024-05-01T20:15:00Z")
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


def _parse_literal(node: ValueNode, _variables: Any = None) -> datetime:
    if not isinstance(node, StringValueNode):
        raise GraphQLError("Timestamp must be a string")
    return parse_timestamp(node.value)


def time_text(moment: datetime) -> str:
    """Stash's ``Time`` output: RFC3339 in the server's local offset."""
    return moment.astimezone(LOCAL_OFFSET).replace(microsecond=0).isoformat()


@dataclass
class SceneActivity:
    plays: list[datetime] = field(default_factory=list)
    resume_s: float = 0.0
    play_duration_s: float = 0.0


class ScenePlays:
    """Per-scene plays and activity, keyed by scene id; the scenes themselves live in ``StashData``."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.activity: dict[str, SceneActivity] = {}

    def of(self, scene_id: str) -> SceneActivity:
        with self.data.lock:
            return self.activity.setdefault(str(scene_id), SceneActivity())

    def history(self, scene_id: str) -> list[str]:
        """Newest first (PlexSync never depends on the order)."""
        with self.data.lock:
            return [time_text(moment) for moment in sorted(self.of(scene_id).plays, reverse=True)]

    def add_plays(self, scene_id: str, times: list[datetime] | None) -> dict[str, Any]:
        """``sceneAddPlay(id, times)``: one row per time (the current time when none is given). Adding a time that is
        already there adds a second row: nothing deduplicates (why PlexSync needs the exactly-once rule,
        sync_queue.ledgers.plays). Answers ``HistoryMutationResult {count, history}`` for the whole scene."""
        with self.data.lock:
            self._require(scene_id)
            self.of(scene_id).plays.extend(times or [datetime.now(LOCAL_OFFSET)])
            history = self.history(scene_id)
            return {"count": len(history), "history": history}

    def save_activity(self, scene_id: str, resume_s: float | None, play_duration_s: float | None) -> bool:
        """``sceneSaveActivity(id, resume_time, playDuration)``: sets ``resume_time`` when given and adds
        ``playDuration`` to ``play_duration`` when given; answers ``true``."""
        with self.data.lock:
            self._require(scene_id)
            activity = self.of(scene_id)
            if resume_s is not None:
                activity.resume_s = resume_s
            if play_duration_s is not None:
                activity.play_duration_s += play_duration_s
            return True

    def _require(self, scene_id: str) -> None:
        if not str(scene_id).isdigit():
            raise GraphQLError(f'strconv.Atoi: parsing "{scene_id}": invalid syntax')
        if str(scene_id) not in self.data.scenes:
            raise GraphQLError(f"scene with id {scene_id} not found")


def _last_played_matches(text: str | None, criterion: dict[str, Any]) -> bool:
    value, modifier = criterion.get("value", ""), criterion["modifier"]
    if modifier in ("IS_NULL", "NOT_NULL"):
        return (text is None) == (modifier == "IS_NULL")
    if text is None:
        return False
    return {"GREATER_THAN": text > value, "LESS_THAN": text < value, "EQUALS": text == value,
            "NOT_EQUALS": text != value}.get(modifier, False)


def _filter_by_last_played(find_scenes: Any, plays: ScenePlays) -> Any:
    """``findScenes`` as installed, with the ``last_played_at`` criterion applied first (as an id set). It compares
    the newest play's text, like every timestamp criterion (stash-protocol.md §5.3: passed into SQL and compared
    as TEXT); a scene never played never matches."""
    def resolve(root: Any, info: Any, scene_filter: Any = None, ids: Any = None, **kwargs: Any) -> Any:
        criterion = (scene_filter or {}).get("last_played_at")
        if criterion is None:
            return find_scenes(root, info, scene_filter=scene_filter, ids=ids, **kwargs)
        with plays.data.lock:
            allowed = {scene_id for scene_id in plays.data.scenes
                       if _last_played_matches((plays.history(scene_id) or [None])[0], criterion)}
        if ids:
            allowed &= {str(i) for i in ids}
        if not allowed:
            return {"count": 0, "duration": 0.0, "filesize": 0.0, "scenes": []}
        rest = {key: value for key, value in scene_filter.items() if key != "last_played_at"}
        return find_scenes(root, info, scene_filter=rest, ids=sorted(allowed), **kwargs)

    return resolve


def install_play_resolvers(schema: GraphQLSchema, data: Any) -> ScenePlays:
    """Wire the play fields and mutations onto the schema; returns the state tests read back. No plugin hook fires
    for play or activity mutations (stash-protocol.md)."""
    plays = ScenePlays(data)
    timestamp = schema.type_map["Timestamp"]
    timestamp.parse_value = timestamp.coerce_input_value = parse_timestamp  # type: ignore[attr-defined]
    timestamp.parse_literal = _parse_literal  # type: ignore[attr-defined]
    scene = schema.type_map["Scene"].fields  # type: ignore[attr-defined]
    mutation = schema.mutation_type.fields  # type: ignore[union-attr]
    resolvers = [
        (scene, "play_history", lambda obj, _info: plays.history(obj["id"])),  # v0.25+, like sceneAddPlay
        (scene, "play_count", lambda obj, _info: len(plays.of(obj["id"]).plays)),
        (scene, "last_played_at", lambda obj, _info: (plays.history(obj["id"]) or [None])[0]),
        (scene, "resume_time", lambda obj, _info: plays.of(obj["id"]).resume_s),
        (scene, "play_duration", lambda obj, _info: plays.of(obj["id"]).play_duration_s),
        (mutation, "sceneAddPlay", lambda _root, _info, id, times=None: plays.add_plays(id, times)),
        (mutation, "sceneSaveActivity", lambda _root, _info, id, resume_time=None, playDuration=None:
            plays.save_activity(id, resume_time, playDuration)),
    ]
    for fields, name, resolve in resolvers:
        if name in fields:  # an older release's schema lacks some (emulators.stash.releases)
            fields[name].resolve = resolve
    find_scenes = schema.query_type.fields["findScenes"]  # type: ignore[union-attr]
    find_scenes.resolve = _filter_by_last_played(find_scenes.resolve, plays)
    return plays
