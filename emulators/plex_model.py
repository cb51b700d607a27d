"""The Plex emulator's library: sections, items, tags, locks, images, and PMS's edit semantics.

Edits follow plexapi 4.18.3's wire (plex-api.md §3, §6.4): ``F.value``/``F.locked`` for fields;
``T[].tag`` clears a tag type, ``T[].tag.tag-`` removes a comma list of double-encoded names, and
``T[i].tag.tag`` replaces the list in index order. Removals apply before replacements.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import unquote

TAG_ELEMENTS = {"genre": "Genre", "actor": "Role", "director": "Director", "collection": "Collection",
                "label": "Label", "writer": "Writer", "producer": "Producer", "country": "Country"}
LIST_VIEW_LIMITS = {"genre": 2, "director": 1, "writer": 1, "country": 1, "actor": 3}
_INDEXED_TAG = re.compile(r"^(\w+)\[(\d+)\]\.(tag\.tag|tagging\.text|tag\.thumb|tag\.tagKey)$")


@dataclass
class Section:
    key: int
    title: str
    type: str
    locations: list[str]
    uuid: str


@dataclass
class EmuItem:
    rating_key: int
    section_id: int
    file: str
    size: int | None
    added_at: int
    updated_at: int
    fields: dict[str, str] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)  # actor name → role/thumb
    locks: set[str] = field(default_factory=set)
    posters: list[str] = field(default_factory=list)
    arts: list[str] = field(default_factory=list)
    selected_poster: str | None = None
    selected_art: str | None = None


class PlexLibrary:
    """Thread-safe in-memory state of one emulated Plex Media Server."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sections: dict[int, Section] = {}
        self.items: dict[int, EmuItem] = {}
        self.pending: list[tuple[int, str, int | None, str | None]] = []
        self.tag_ids: dict[tuple[str, str], int] = {}
        self._next_key = 100
        self._next_tag = 1000
        self.clock = lambda: int(time.time())

    def _key(self) -> int:
        self._next_key += 1
        return self._next_key

    def tag_id(self, tag_type: str, name: str) -> int:
        with self.lock:
            if (tag_type, name) not in self.tag_ids:
                self._next_tag += 1
                self.tag_ids[(tag_type, name)] = self._next_tag
            return self.tag_ids[(tag_type, name)]

    def add_section(self, title: str, locations: Iterable[str], type: str = "movie") -> int:
        with self.lock:
            key = len(self.sections) + 1
            self.sections[key] = Section(key, title, type, list(locations), f"emu-section-{key:04d}")
            return key

    def add_item(self, section_id: int, file: str, size: int | None, title: str, added_at: int | None = None,
                 **attrs: str) -> int:
        with self.lock:
            if section_id not in self.sections:
                raise KeyError(f"no section {section_id}")
            key = self._key()
            now = self.clock()
            item = EmuItem(key, section_id, file, size, added_at if added_at is not None else now, now)
            item.fields.update({"title": title, "titleSort": title, **{k: str(v) for k, v in attrs.items()}})
            self.items[key] = item
            return key

    def items_in(self, section_id: int) -> list[EmuItem]:
        with self.lock:
            return [item for item in self.items.values() if item.section_id == section_id]

    # -- scans ---------------------------------------------------------------------------------

    def add_pending_file(self, section_id: int, file: str, size: int | None, title: str | None) -> None:
        with self.lock:
            self.pending.append((section_id, file, size, title))

    def scan(self, section_id: int, path: str | None) -> list[int]:
        """Pending files under ``path`` (or the whole section) become items, as a real scan would."""
        with self.lock:
            found, keep = [], []
            for pending in self.pending:
                sid, file, size, title = pending
                inside = path is None or file.startswith(path.rstrip("/") + "/") or file == path
                if sid == section_id and inside:
                    stem = file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
                    found.append(self.add_item(sid, file, size, title or stem))
                else:
                    keep.append(pending)
            self.pending = keep
            return found

    # -- edits ---------------------------------------------------------------------------------

    def apply_edit(self, item: EmuItem, query: list[tuple[str, str]]) -> None:
        """One PUT's worth of edits on one item (``type``/``id`` already consumed by the caller)."""
        with self.lock:
            replacements: dict[str, dict[int, dict[str, str]]] = {}
            for key, value in query:
                if key.endswith(".locked") and "[" not in key:
                    name = key[: -len(".locked")]
                    (item.locks.add if value == "1" else item.locks.discard)(name)
                elif key.endswith(".value"):
                    item.fields[key[: -len(".value")]] = value
                elif key.endswith("[].tag"):
                    item.tags[key[: -len("[].tag")]] = []
                elif key.endswith("[].tag.tag-"):
                    tag_type = key[: -len("[].tag.tag-")]
                    gone = {unquote(name) for name in value.split(",")}
                    item.tags[tag_type] = [t for t in item.tags.get(tag_type, []) if t not in gone]
                else:
                    match = _INDEXED_TAG.match(key)
                    if match:
                        tag_type, index, attribute = match.group(1), int(match.group(2)), match.group(3)
                        replacements.setdefault(tag_type, {}).setdefault(index, {})[attribute] = value
            for tag_type, entries in replacements.items():
                names = [entries[i]["tag.tag"] for i in sorted(entries) if "tag.tag" in entries[i]]
                item.tags[tag_type] = names
                for name in names:
                    self.tag_id(tag_type, name)
                if tag_type == "actor":
                    for i in sorted(entries):
                        details = entries[i]
                        if "tag.tag" in details:
                            item.roles[details["tag.tag"]] = {"role": details.get("tagging.text", ""),
                                                              "thumb": details.get("tag.thumb", "")}
            item.updated_at = max(item.updated_at + 1, self.clock())

    def upload_image(self, item: EmuItem, kind: str, data: bytes | None, url: str | None) -> None:
        with self.lock:
            if data:
                reference = f"upload://{'posters' if kind == 'poster' else 'art'}/{hashlib.sha1(data).hexdigest()}"
            else:
                reference = url or ""
            images = item.posters if kind == "poster" else item.arts
            if reference not in images:
                images.append(reference)
            attribute = "thumb" if kind == "poster" else "art"
            if kind == "poster":
                item.selected_poster = reference
            else:
                item.selected_art = reference
            item.locks.add(attribute)
            item.updated_at = max(item.updated_at + 1, self.clock())
            item.fields[attribute] = f"/library/metadata/{item.rating_key}/{attribute}/{item.updated_at}"


def list_view_tags(item: EmuItem, truncate: bool) -> dict[str, list[str]]:
    """List/search views carry only a few tags per type, like real PMS."""
    if not truncate:
        return item.tags
    return {tag_type: names[: LIST_VIEW_LIMITS.get(tag_type, len(names))] for tag_type, names in item.tags.items()}
