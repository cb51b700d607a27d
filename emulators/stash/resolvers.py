"""Resolvers of the Stash emulator: findScene(s) with Stash's filter semantics, settings, version."""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLSchema

from emulators.stash.scene_update import install_scene_update

NUMERIC_SORTS = {"id", "rating100"}


def _updated_at_matches(scene: dict[str, Any], criterion: dict[str, Any]) -> bool:
    """Stash compares ``updated_at`` as TEXT (stash-protocol.md §5.3): so do we."""
    value, value2, modifier = criterion.get("value", ""), criterion.get("value2"), criterion["modifier"]
    text = scene["updated_at"]
    return {
        "GREATER_THAN": text > value,
        "LESS_THAN": text < value,
        "EQUALS": text == value,
        "NOT_EQUALS": text != value,
        "BETWEEN": value <= text <= (value2 or value),
        "NOT_NULL": True,
        "IS_NULL": False,
    }.get(modifier, False)


def _multi_matches(have: set[str], criterion: dict[str, Any]) -> bool:
    wanted = {str(v) for v in criterion.get("value") or []}
    excluded = {str(v) for v in criterion.get("excludes") or []}
    modifier = criterion["modifier"]
    if have & excluded:
        return False
    if modifier == "INCLUDES":
        return bool(have & wanted)
    if modifier == "INCLUDES_ALL":
        return wanted <= have
    if modifier == "EXCLUDES":
        return not have & wanted
    if modifier == "IS_NULL":
        return not have
    if modifier == "NOT_NULL":
        return bool(have)
    return have == wanted


def _scene_matches(data: Any, scene: dict[str, Any], scene_filter: dict[str, Any]) -> bool:
    for key, criterion in (scene_filter or {}).items():
        if criterion is None:
            continue
        if key == "updated_at" and not _updated_at_matches(scene, criterion):
            return False
        if key == "id":
            number = int(scene["id"])
            if not {"EQUALS": number == criterion["value"], "GREATER_THAN": number > criterion["value"],
                    "LESS_THAN": number < criterion["value"]}.get(criterion["modifier"], False):
                return False
        if key == "performers" and not _multi_matches(set(scene["performer_ids"]), criterion):
            return False
        if key == "tags" and not _multi_matches(set(scene["tag_ids"]), criterion):
            return False
        if key in ("groups", "movies") and not _multi_matches(set(scene["group_ids"]), criterion):  # movies: < v0.27
            return False
        if key == "studios":
            widened = dict(criterion, value=sorted(data.studio_with_children(criterion.get("value") or [],
                                                                              criterion.get("depth"))))
            if not _multi_matches({scene["studio_id"]} if scene["studio_id"] else set(), widened):
                return False
    return True


def _sorted(scenes: list[dict[str, Any]], find_filter: dict[str, Any]) -> list[dict[str, Any]]:
    sort = find_filter.get("sort") or "id"
    reverse = (find_filter.get("direction") or "ASC") == "DESC"

    def key(scene: dict[str, Any]) -> Any:
        value = scene.get(sort)
        if sort in NUMERIC_SORTS:
            return (value is None, int(value) if value is not None else 0)
        return (value is None, str(value or ""), int(scene["id"]))

    return sorted(scenes, key=key, reverse=reverse)


class _OrderCache:
    """The last whole-library scene order per (filter, sort), while the data is unchanged: a Sync All pages through
    100,000 scenes, and filtering and sorting them all again for every page of 1,000 made the emulator the slow
    side (Stash's SQL pages with ORDER BY … LIMIT/OFFSET; only the speed is ours)."""

    def __init__(self) -> None:
        self.version, self.orders = -1, {}

    def get(self, data: Any, scene_filter: Any, find_filter: dict[str, Any]) -> list[dict[str, Any]]:
        if self.version != data.version:
            self.version, self.orders = data.version, {}
        key = json.dumps([scene_filter, find_filter.get("sort"), find_filter.get("direction")], sort_keys=True)
        if key not in self.orders:
            scenes = [s for s in data.scenes.values() if _scene_matches(data, s, scene_filter)]
            self.orders = {key: _sorted(scenes, find_filter)}  # one order kept: pages of one listing
        return self.orders[key]


def install_resolvers(schema: GraphQLSchema, emulator: Any) -> None:
    data = emulator.data
    orders = _OrderCache()
    query = schema.query_type.fields
    mutation = schema.mutation_type.fields

    def find_scene(_root: Any, _info: Any, id: str | None = None, checksum: str | None = None) -> Any:
        with data.lock:
            scene = data.scenes.get(str(id)) if id is not None else None
            return data.scene_dict(scene, emulator.url) if scene else None

    def find_scenes(_root: Any, _info: Any, scene_filter: Any = None, scene_ids: Any = None, ids: Any = None,
                    filter: Any = None) -> dict[str, Any]:
        find_filter = filter or {}
        with data.lock:
            wanted = {str(i) for i in ids} if ids else ({str(i) for i in scene_ids} if scene_ids else None)
            if wanted is None:
                scenes = orders.get(data, scene_filter, find_filter)
            else:  # by id: look the few up rather than scan every scene (a 100,000-scene benchmark asks per batch)
                scenes = _sorted([data.scenes[i] for i in wanted
                                  if i in data.scenes and _scene_matches(data, data.scenes[i], scene_filter)],
                                 find_filter)
            per_page = find_filter.get("per_page", 25)
            page = max(1, find_filter.get("page") or 1)
            window = scenes if per_page == -1 else scenes[(page - 1) * per_page: page * per_page]
            # Totals only when asked for (graphql-core calls a callable field value): summing every file per page
            # was most of a page's cost at 100,000 scenes.
            return {"count": len(scenes), "duration": lambda *_: 60.0 * len(scenes),
                    "filesize": lambda *_: float(sum(f.get("size", 0) for s in scenes for f in s["files"])),
                    "scenes": [data.scene_dict(s, emulator.url) for s in window]}

    def plugins(_root: Any, _info: Any, include: Any = None) -> dict[str, Any]:
        # Every key ever saved, declared in the yml or not (resolver_model_config.go → GetPluginConfiguration):
        # settings saved under a key PlexSync used before still reach it.
        with data.lock:
            chosen = data.plugin_settings if include is None else {
                k: v for k, v in data.plugin_settings.items() if k in include}
            return {k: dict(v) for k, v in chosen.items()}  # Stash leaves out plugins with nothing saved

    def configure_plugin(_root: Any, _info: Any, plugin_id: str, input: dict[str, Any]) -> dict[str, Any]:
        emulator.set_plugin_settings(plugin_id, input)  # replaces the whole map, like Stash
        return dict(input)

    query["findScene"].resolve = find_scene
    query["findScenes"].resolve = find_scenes
    release = emulator.release
    query["version"].resolve = lambda *_: {"version": release.version, "hash": release.hash,
                                           "build_time": release.build_time}
    query["configuration"].resolve = lambda *_: {"general": {"apiKey": emulator.api_key, "maxSessionAge": 3600}}
    schema.type_map["ConfigResult"].fields["plugins"].resolve = plugins
    mutation["configurePlugin"].resolve = configure_plugin
    install_scene_update(schema, emulator)  # a scene's rating (ratings imported from Plex)
