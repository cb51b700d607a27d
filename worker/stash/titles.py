"""The names people know scenes by, for the few scenes a task's summary names (Queue Status, a sync's
ambiguous and failed scenes): one ``findScenes`` for all of them, never a request per scene.

The store keeps scene ids only; Stash has the titles. A scene without a title goes by its file's name, as in
Stash's own lists.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from validation.stash_log import get_logger
from worker.stash import queries as q

TITLES_KEY = "scene_titles"  # in a task's output: {"<scene id>": "<title>"}
MOST_NAMED = 100  # more than any summary names

log = get_logger("stash")


def title_of(scene: Mapping[str, Any]) -> str:
    files = scene.get("files") or []
    return str(scene.get("title") or (files[0].get("basename") if files else "") or "")


def scene_titles(stash: Any, scene_ids: Iterable[int]) -> dict[str, str]:
    """``{"25": "Harbour Lights"}`` for the scenes Stash still has; {} when Stash cannot answer."""
    wanted = sorted({int(scene_id) for scene_id in scene_ids})[:MOST_NAMED]
    if stash is None or not wanted:
        return {}
    from worker.stash.reader import StashError

    try:
        found = stash.call(q.SCENE_TITLES, {"ids": [str(scene_id) for scene_id in wanted]})["findScenes"]["scenes"]
    except (StashError, KeyError, TypeError) as exc:
        log.debug("Scene titles not read (%s); scenes are named by id", exc)
        return {}
    return {str(scene["id"]): title_of(scene) for scene in found if title_of(scene)}


def titles_for_task(server_connection: Mapping[str, Any] | None, stash_url: str | None, stash_api_key: str | None,
                    scene_ids: Iterable[int]) -> dict[str, str]:
    """For a task that has no Stash reader of its own (Queue Status): one only when there is a scene to name."""
    wanted = list(scene_ids)
    if not wanted or (server_connection is None and not stash_url):
        return {}
    from worker.stash.reader import StashError, StashReader

    try:
        stash = (StashReader(dict(server_connection), timeout_s=10.0) if server_connection is not None
                 else StashReader.from_url(str(stash_url), stash_api_key, timeout_s=10.0))
    except (StashError, ValueError) as exc:
        log.debug("Stash not reached for scene titles (%s); scenes are named by id", exc)
        return {}
    return scene_titles(stash, wanted)


def scene_name(scene_id: Any, titles: Mapping[str, str] | None) -> str:
    """``'Harbour Lights' (scene 25)``, or ``scene 25`` when the title is not known."""
    title = (titles or {}).get(str(scene_id))
    return f"'{title}' (scene {scene_id})" if title else f"scene {scene_id}"
