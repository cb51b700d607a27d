"""PMS's metadata edit semantics for the query strings plexapi 4.18.3 sends (plex-api.md §3, §6.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from emulators.plex.model import EmuItem, PlexLibrary

CONTROL_KEYS = {"type", "id", "includeExternalMedia", "X-Plex-Token"}
_INDEXED_TAG = re.compile(r"^(\w+)\[(\d+)\]\.(tag\.tag|tagging\.text|tag\.thumb|tag\.tagKey)$")
_ROLE_ATTRIBUTES = {"tagging.text": "role", "tag.tagKey": "tagKey"}  # per item; the photo is per actor


@dataclass
class EditPlan:
    """One request's edits, parsed once and applied to every targeted item."""

    values: list[tuple[str, str]] = field(default_factory=list)
    locks: list[tuple[str, bool]] = field(default_factory=list)
    clears: list[str] = field(default_factory=list)
    removals: dict[str, set[str]] = field(default_factory=dict)
    replacements: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)


def parse_edits(query: list[tuple[str, str]]) -> EditPlan:
    """``F.value`` sets a field (empty clears), ``F.locked`` locks/unlocks. Tags per type T: ``T[].tag`` clears the
    type, ``T[].tag.tag-`` removes a comma list of names that plexapi quoted twice (the server splits on ``,`` and
    unquotes each, so commas inside names survive), ``T[i].tag.tag`` replaces the list in index order, with
    ``T[i].tagging.text`` / ``T[i].tag.tagKey`` / ``T[i].tag.thumb`` kept on that entry."""
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
    """Clear and removal apply before replacement; spellings are resolved before either (see ``_spellings``)."""
    with library.lock:
        spellings = {kind: _spellings(library, kind, entries) for kind, entries in plan.replacements.items()}
        for name, value in plan.values:
            _set_scalar(item, name, value)
        for name, locked in plan.locks:
            (item.locks.add if locked else item.locks.discard)(name)
        for tag_type in plan.clears:
            item.tags[tag_type] = []
        for tag_type, names in plan.removals.items():
            item.tags[tag_type] = [name for name in item.tags.get(tag_type, []) if name not in names]
        for tag_type, entries in plan.replacements.items():
            _replace_tags(library, item, tag_type, entries, spellings[tag_type])
        for tag_type in item.tags:
            library.register_tags(item, tag_type)
        library.touch(item)


def _spellings(library: PlexLibrary, tag_type: str, entries: dict[int, dict[str, str]]) -> dict[str, str]:
    """Each name sent → the spelling PMS stores: its own if in use (or new), else that of a tag in use that
    matches it ignoring case. Tags nobody carries any more are taken as gone [U: PMS may keep them longer].

    Tag names are case-insensitive on the server (Kometa-Team/Kometa#201, Plex capitalising labels; plex-api.md
    addendum). Names are resolved before the request's removals apply, so removing the old spelling and adding a
    new one in the same request keeps the old spelling; only a later request sees it gone."""
    sent = {entry["tag.tag"] for entry in entries.values() if entry.get("tag.tag")}
    by_key: dict[str, list[str]] = {}
    for kind, known in library.tag_ids:
        if kind == tag_type:
            by_key.setdefault(known.casefold(), []).append(known)
    resolved = {}
    for name in sent:
        others = [known for known in by_key.get(name.casefold(), []) if known != name]
        in_use = [known for known in others if _carried(library, tag_type, known)] if others else []
        resolved[name] = name if not in_use or _carried(library, tag_type, name) else in_use[0]
    return resolved


def _carried(library: PlexLibrary, tag_type: str, name: str) -> bool:
    return any(name in item.tags.get(tag_type, ()) for item in library.items.values())


def _set_scalar(item: EmuItem, name: str, value: str) -> None:
    """``titleSort`` and ``contentRating`` are plain fields too (plexapi's ``editSortTitle``/``editContentRating``
    → ``editField``, plexapi/mixins/edit.py); an unset ``titleSort`` is left out of the XML and plexapi reads the
    title in its place (``Video._loadData``)."""
    if name == "addedAt":
        if value:
            item.added_stamp = int(float(value))
        return
    if name == "userRating" and value == "-1":
        value = ""
    if value == "":
        item.fields.pop(name, None)
    else:
        item.fields[name] = value


def _replace_tags(library: PlexLibrary, item: EmuItem, tag_type: str, entries: dict[int, dict[str, str]],
                  spellings: dict[str, str]) -> None:
    """An indexed list always replaces the item's whole list of its type: plexapi's maintainers (PR #151, "it will
    overwrite the previous collection/label/genre"), and every client that adds a tag re-sends the existing ones
    with it (plexapi's ``editTags``, PSPlex's ``Add-PlexLabel``). No source shows a server that adds indexed entries
    to the item's list, so the emulator has no such mode: a list sent in parts keeps its last part.

    ``actor[i].tag.thumb`` is the actor's photo, and Plex keeps one photo per actor for the whole server (one entry
    per actor name, shared by every item and library: gboudreau/XBMCnfoTVImporter.bundle#118, "all instances of an
    actor are linked together in the Plex database as one entry … a single image";
    joshuaavalon/AvalonXmlAgent.bundle#1, "Plex only support 1 thumbnail per actor … the later updated one will
    overwrite"), so writing it on one item changes it on all of them. An actor sent without ``tag.thumb`` loses its
    photo, everywhere (plex-api.md §3.4: "send the full cast each time, including ``tag.thumb`` of existing actors,
    or their role/photo may be lost", the stricter reading of an unverified behaviour)."""
    ordered = [entries[index] for index in sorted(entries) if entries[index].get("tag.tag")]
    names = [spellings[entry["tag.tag"]] for entry in ordered]
    item.tags[tag_type] = list(dict.fromkeys(names))
    if tag_type != "actor":
        return
    for name, entry in zip(names, ordered):
        item.roles[name] = {attribute: entry[key] for key, attribute in _ROLE_ATTRIBUTES.items() if entry.get(key)}
        library.set_actor_photo(name, entry.get("tag.thumb"))
