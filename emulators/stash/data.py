"""The Stash emulator's data: studios, performers, tags, groups, scenes, plugin settings."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

LOCAL_OFFSET = timezone(timedelta(hours=1))


class StashData:
    def __init__(self, group_route: str = "group") -> None:
        self.lock = threading.RLock()
        self.group_route = group_route
        # (route, image) → object kind, for GET /<route>/<id>/<image>
        self.image_kinds = {("performer", "image"): "performer", ("studio", "image"): "studio",
                            (group_route, "frontimage"): "group"}
        self.studios: dict[str, dict[str, Any]] = {}
        self.performers: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.scenes: dict[str, dict[str, Any]] = {}
        self.screenshots: dict[str, bytes] = {}
        self.images: dict[tuple[str, str], bytes] = {}  # (performer|studio|group, id) → image bytes
        self.plugin_settings: dict[str, dict[str, Any]] = {}
        self._next_id = 0
        self._last_stamp = 0
        self.version = 0  # bumped by every change: the resolvers' cached scene orders are only as old as it

    def changed(self) -> None:
        self.version += 1

    def _id(self) -> str:
        self.changed()
        self._next_id += 1
        return str(self._next_id)

    def stamp(self) -> int:
        """A Stash stamp (epoch seconds on the emulated Stash's clock) strictly later than the previous one."""
        stamp = max(int(time.time()), self._last_stamp + 1)
        self._last_stamp = stamp
        return stamp

    def now_text(self) -> str:
        """A timestamp strictly later than the previous one, in Stash's text form: RFC3339 in a fixed local offset,
        compared as text (as Stash's SQLite does)."""
        return datetime.fromtimestamp(self.stamp(), LOCAL_OFFSET).isoformat()

    def set_image(self, kind: str, object_id: str, data: bytes | None) -> None:
        """Give a performer, studio or group an image (None removes it); its ``updated_at`` moves on."""
        table = {"performer": self.performers, "studio": self.studios, "group": self.groups}[kind]
        with self.lock:
            table[str(object_id)]["updated_stamp"] = self.stamp()
            if data is None:
                self.images.pop((kind, str(object_id)), None)
            else:
                self.images[(kind, str(object_id))] = data

    def image_path(self, kind: str, object_id: str, base_url: str) -> str:
        """The URL Stash's url builders build (internal/api/urlbuilders/performer.go, studio.go, group.go):
        ``<base>/performer/<id>/image?t=<updated_at unix>``, ``<base>/studio/<id>/image?t=…``,
        ``<base>/group/<id>/frontimage?t=…``, with ``&default=true`` when the object has no image (Stash then
        serves a placeholder). Before v0.27 groups are movies: ``<base>/movie/<id>/frontimage?t=…``
        (urlbuilders/movie.go at v0.24.3); ``group_route`` says which. Setting an image or renaming bumps the
        object's ``updated_at``, so its ``t`` changes (stash-protocol.md §5.2)."""
        table = {"performer": self.performers, "studio": self.studios, "group": self.groups}[kind]
        route = f"{self.group_route}/{object_id}/frontimage" if kind == "group" else f"{kind}/{object_id}/image"
        path = f"{base_url}/{route}?t={table[object_id]['updated_stamp']}"
        return path if (kind, object_id) in self.images else path + "&default=true"

    # -- objects -------------------------------------------------------------------------------

    def add_studio(self, name: str, parent_id: str | None = None) -> str:
        with self.lock:
            studio_id = self._id()
            self.studios[studio_id] = {"id": studio_id, "name": name, "parent_id": parent_id,
                                       "updated_stamp": self.stamp()}
            return studio_id

    def add_performer(self, name: str, disambiguation: str | None = None) -> str:
        with self.lock:
            performer_id = self._id()
            self.performers[performer_id] = {"id": performer_id, "name": name, "disambiguation": disambiguation,
                                             "updated_stamp": self.stamp()}
            return performer_id

    def add_tag(self, name: str) -> str:
        with self.lock:
            tag_id = self._id()
            self.tags[tag_id] = {"id": tag_id, "name": name}
            return tag_id

    def add_group(self, name: str) -> str:
        with self.lock:
            group_id = self._id()
            self.groups[group_id] = {"id": group_id, "name": name, "updated_stamp": self.stamp()}
            return group_id

    def add_scene(self, *, files: Iterable[dict[str, Any]] = (), screenshot: bytes | None = None,
                  **fields: Any) -> str:
        with self.lock:
            scene_id = self._id()
            stamp = self.now_text()
            self.scenes[scene_id] = {
                "id": scene_id, "title": None, "code": None, "details": None, "director": None, "date": None,
                "rating100": None, "studio_id": None, "performer_ids": [], "tag_ids": [], "group_ids": [],
                "urls": [], "organized": False, "created_at": stamp, "updated_at": stamp,
                "files": [dict(f) for f in files],
            }
            self.update_scene(scene_id, bump=False, **fields)
            self.screenshots[scene_id] = screenshot if screenshot is not None else b"\x89PNG-emulated-" + scene_id.encode()
            return scene_id

    def update_scene(self, scene_id: str, bump: bool = True, **changes: Any) -> None:
        with self.lock:
            scene = self.scenes[str(scene_id)]
            for key, value in changes.items():
                if key not in scene:
                    raise KeyError(f"unknown scene field {key!r}")
                scene[key] = list(value) if isinstance(value, (list, tuple)) else value
            if bump:
                scene["updated_at"] = self.now_text()
            self.changed()

    def rename(self, table: dict[str, dict[str, Any]], object_id: str, name: str) -> None:
        """A performer/studio/tag/group renamed: no scene's ``updated_at`` moves (as in Stash)."""
        with self.lock:
            table[str(object_id)]["name"] = name
            if "updated_stamp" in table[str(object_id)]:
                table[str(object_id)]["updated_stamp"] = self.stamp()
            self.changed()

    def merge_tags(self, source_ids: Iterable[str], destination_id: str) -> None:
        sources = {str(s) for s in source_ids} - {str(destination_id)}
        with self.lock:
            for scene in self.scenes.values():
                if sources & set(scene["tag_ids"]):
                    kept = [t for t in scene["tag_ids"] if t not in sources]
                    scene["tag_ids"] = kept + ([] if str(destination_id) in kept else [str(destination_id)])
                    scene["updated_at"] = self.now_text()
            for source in sources:
                self.tags.pop(source, None)
            self.changed()

    def delete_scene(self, scene_id: str) -> None:
        with self.lock:
            self.scenes.pop(str(scene_id), None)
            self.changed()

    # -- rendering (the GraphQL shapes) ---------------------------------------------------------

    def studio_dict(self, studio_id: str | None, base_url: str) -> dict[str, Any] | None:
        if not studio_id or studio_id not in self.studios:
            return None
        studio = self.studios[studio_id]
        return {"id": studio["id"], "name": studio["name"], "image_path": self.image_path("studio", studio_id, base_url),
                "parent_studio": self.studio_dict(studio["parent_id"], base_url)}

    def scene_dict(self, scene: dict[str, Any], base_url: str) -> dict[str, Any]:
        stamp = int(datetime.fromisoformat(scene["updated_at"]).timestamp())
        files = [{"id": f"{scene['id']}{n}", "path": f["path"], "basename": f["path"].replace("\\", "/").rsplit("/", 1)[-1],
                  "size": f.get("size", 0), "duration": 60.0, "width": 1920, "height": 1080,
                  "fingerprints": [{"type": "oshash", "value": f"{abs(hash(f['path'])):016x}"}],
                  "mod_time": scene["created_at"]} for n, f in enumerate(scene["files"])]
        return {
            **{key: scene[key] for key in ("id", "title", "code", "details", "director", "date", "rating100",
                                           "urls", "organized", "created_at", "updated_at")},
            "files": files,
            "paths": {"screenshot": f"{base_url}/scene/{scene['id']}/screenshot?t={stamp}",
                      "preview": f"{base_url}/scene/{scene['id']}/preview",
                      "stream": f"{base_url}/scene/{scene['id']}/stream"},
            "studio": self.studio_dict(scene["studio_id"], base_url),
            "performers": [{"id": p, "name": self.performers[p]["name"],
                            "disambiguation": self.performers[p]["disambiguation"], "alias_list": [],
                            "image_path": self.image_path("performer", p, base_url)}
                           for p in scene["performer_ids"] if p in self.performers],
            "tags": [dict(self.tags[t]) for t in scene["tag_ids"] if t in self.tags],
            "groups": [{"scene_index": None, "group": self._group_dict(g, base_url)}
                       for g in scene["group_ids"] if g in self.groups],
            # Stash before v0.27 (a callable: graphql-core calls it only when a query asks for movies)
            "movies": lambda *_: [{"scene_index": None, "movie": self._group_dict(g, base_url)}
                                  for g in scene["group_ids"] if g in self.groups],
            "stash_ids": [],
        }

    def _group_dict(self, group_id: str, base_url: str) -> dict[str, Any]:
        return {"id": group_id, "name": self.groups[group_id]["name"],
                "front_image_path": self.image_path("group", group_id, base_url)}

    def studio_with_children(self, studio_ids: Iterable[str], depth: int | None) -> set[str]:
        found = {str(s) for s in studio_ids}
        if depth in (None, 0):
            return found
        frontier, level = set(found), 0
        while frontier and (depth < 0 or level < depth):
            frontier = {s for s, studio in self.studios.items() if studio["parent_id"] in frontier} - found
            found |= frontier
            level += 1
        return found
