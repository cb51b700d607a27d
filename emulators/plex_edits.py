"""PMS's metadata edit semantics for the query strings plexapi 4.18.3 sends (plex-api.md §3, §6.4).

Fields: ``F.value`` sets (empty clears), ``F.locked`` locks/unlocks. Tags per type T: ``T[].tag`` clears the
type, ``T[].tag.tag-`` removes a comma list of names that plexapi quoted twice (the server splits on ``,`` and
unquotes each, so commas inside names survive), ``T[i].tag.tag`` replaces the list in index order, with
``T[i].tagging.text`` / ``T[i].tag.thumb`` / ``T[i].tag.tagKey`` kept on that entry. Clear and removal apply
before replacement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from emulators.plex_model import EmuItem, PlexLibrary

CONTROL_KEYS = {"type", "id", "includeExternalMedia", "X-Plex-Token"}
_INDEXED_TAG = re.compile(r"^(\w+)\[(\d+)\]\.(tag\.tag|tagging\.text|tag\.thumb|tag\.tagKey)$")
_ROLE_ATTRIBUTES = {"tagging.text": "role", "tag.thumb": "thumb", "tag.tagKey": "tagKey"}


@dataclass
class EditPlan:
    """One request's edits, parsed once and applied to every targeted item."""

    values: list[tuple[str, str]] = field(default_factory=list)
    locks: list[tuple[str, bool]] = field(default_factory=list)
    clears: list[str] = field(default_factory=list)
    removals: dict[str, set[str]] = field(default_factory=dict)
    replacements: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)


def parse_edits(query: list[tuple[str, str]]) -> EditPlan:
    plan = EditPlan()
    for key, value in query:
        if key in CONTROL_KEYS:
            continue
        indexed = _INDEXED_TAG.match(key)
        if indexed:
            tag_type, index, attribute = indexed.group(1), int(indexed.group(2)), indexed.group(3)
            plan.replacements.setdefault(tag_type, {}).setdefault(index, {})[attribute] = value
        elif key.endswith("[].tag.tag-"):
            names = {unquote(name) for name in value.split(",") if name}
            plan.removals.setdefault(key[: -len("[].tag.tag-")], set()).update(names)
        elif key.endswith("[].tag"):
            plan.clears.append(key[: -len("[].tag")])
        elif key.endswith(".locked"):
            plan.locks.append((key[: -len(".locked")], value not in ("0", "")))
        elif key.endswith(".value"):
            plan.values.append((key[: -len(".value")], value))
    return plan


def apply_edits(library: PlexLibrary, item: EmuItem, plan: EditPlan) -> None:
    with library.lock:
        for name, value in plan.values:
            _set_scalar(item, name, value)
        for name, locked in plan.locks:
            (item.locks.add if locked else item.locks.discard)(name)
        for tag_type in plan.clears:
            item.tags[tag_type] = []
        for tag_type, names in plan.removals.items():
            item.tags[tag_type] = [name for name in item.tags.get(tag_type, []) if name not in names]
        for tag_type, entries in plan.replacements.items():
            _replace_tags(item, tag_type, entries)
        for tag_type in item.tags:
            library.register_tags(item, tag_type)
        library.touch(item)


def _set_scalar(item: EmuItem, name: str, value: str) -> None:
    if name == "addedAt":
        if value:
            item.added_at = int(float(value))
        return
    if name == "userRating" and value == "-1":
        value = ""
    if value == "":
        item.fields.pop(name, None)
    else:
        item.fields[name] = value


def _replace_tags(item: EmuItem, tag_type: str, entries: dict[int, dict[str, str]]) -> None:
    ordered = [entries[index] for index in sorted(entries) if entries[index].get("tag.tag")]
    item.tags[tag_type] = list(dict.fromkeys(entry["tag.tag"] for entry in ordered))
    if tag_type != "actor":
        return
    for entry in ordered:
        details = {attribute: entry[key] for key, attribute in _ROLE_ATTRIBUTES.items() if entry.get(key)}
        item.roles[entry["tag.tag"]] = details
