"""The Plex fields PlexSync writes: how values compare, how Plex's current values are read, and the query
parameters of one edit PUT (built with plexapi's own tag helper, so encoding is exactly plexapi's).

Tag lists are exact sets: the full wanted list is sent as ``genre[0].tag.tag=…`` (which replaces the item's
list), names no longer wanted are also removed explicitly (``genre[].tag.tag-=…``, plexapi's removal form, so
the result is right whether the server replaces or appends), and an empty list is cleared with ``genre[].tag=``.
Every written field is locked so an agent refresh cannot undo it; a lock can also be sent on its own (a right
value Plex has not locked yet, an uploaded image).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from plexapi.mixins import EditTagsMixin

SCALARS = ("title", "summary", "tagline", "originallyAvailableAt", "year", "studio", "userRating")
TAG_TYPES = ("director", "genre", "actor", "collection")
FIELDS = SCALARS + TAG_TYPES
PLEX_TAG_ATTRIBUTE = {"director": "directors", "genre": "genres", "actor": "roles", "collection": "collections"}
# Plex derives one from the other: whenever either is written, both are locked.
LOCKED_TOGETHER = {"year": ("year", "originallyAvailableAt"), "originallyAvailableAt": ("year", "originallyAvailableAt")}
IMAGE_LOCK = {"poster": "thumb", "art": "art"}


def scalar_text(name: str, value: Any) -> str:
    """The text Plex stores for a scalar (also the form two values are compared in); '' means empty."""
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if name == "userRating" and value != "":
        try:
            return f"{float(value):g}"
        except (TypeError, ValueError):
            return str(value)
    if name == "year" and value != "":
        try:
            return str(int(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def tag_names(values: Iterable[Any] | None) -> list[str]:
    """Names in order, each once, empty ones dropped."""
    return list(dict.fromkeys(str(value) for value in values or [] if str(value) != ""))


def same(name: str, left: Any, right: Any) -> bool:
    if name in TAG_TYPES:
        return set(tag_names(left)) == set(tag_names(right))
    return scalar_text(name, left) == scalar_text(name, right)


def json_value(name: str, value: Any) -> Any:
    """A wanted value in a JSON-safe form (dates become ``YYYY-MM-DD``)."""
    if name in TAG_TYPES:
        return tag_names(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return scalar_text(name, value)


def current_values(item: Any) -> dict[str, Any]:
    """A full (detail) plexapi item's values, in the shape of ``wanted``."""
    values: dict[str, Any] = {name: scalar_text(name, getattr(item, name, None)) for name in SCALARS}
    for tag_type, attribute in PLEX_TAG_ATTRIBUTE.items():
        values[tag_type] = [tag.tag for tag in getattr(item, attribute, None) or []]
    return values


def current_locks(item: Any) -> set[str]:
    """The fields a full (detail) plexapi item has locked (its ``<Field name locked="1"/>`` children)."""
    return {field.name for field in getattr(item, "fields", None) or [] if field.locked}


def lock_names(names: Iterable[str]) -> list[str]:
    """The Plex fields locked when ``names`` are written, each once."""
    return list(dict.fromkeys(lock for name in names for lock in LOCKED_TOGETHER.get(name, (name,))))


def missing_locks(names: Iterable[str], locked: set[str]) -> list[str]:
    """The locks writing ``names`` calls for that Plex does not hold yet."""
    return [lock for lock in lock_names(names) if lock not in locked]


def image_locks(kinds: Iterable[str]) -> list[str]:
    return [IMAGE_LOCK[kind] for kind in kinds]


def final_collections(current: Iterable[str], ours_before: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """(Plex's current − the ones PlexSync added before) ∪ wanted: the user's own collections survive."""
    previous = set(ours_before)
    return tag_names([name for name in current if name not in previous] + tag_names(wanted))


def edit_params(changes: Mapping[str, Any], before: Mapping[str, Any], locks: Iterable[str] = ()) -> dict:
    """Query parameters for one PUT writing and locking ``changes`` and also locking the Plex fields in ``locks``
    (``before``: the values ``changes`` replace, for removals)."""
    params: dict[str, Any] = {}
    for name, value in changes.items():
        if name in TAG_TYPES:
            names = tag_names(value)
            params.update(_tag_params(name, names, _removed(tag_names(before.get(name)), names)))
        else:
            params[f"{name}.value"] = scalar_text(name, value)
    params.update({f"{name}.locked": 1 for name in [*lock_names(changes), *locks]})
    return params


def _removed(old: list[str], names: list[str]) -> list[str]:
    """Old names to remove explicitly. A case-only rename is left to the replacement: PMS may match the removal
    case-insensitively and apply it after the replacement, taking the new spelling away with the old."""
    wanted = {name.casefold() for name in names}
    return [name for name in old if name.casefold() not in wanted]


def _tag_params(tag_type: str, names: list[str], removed: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if removed:
        params.update(EditTagsMixin._tagHelper(tag_type, removed, locked=True, remove=True))
    if names:
        params.update(EditTagsMixin._tagHelper(tag_type, names, locked=True))
    else:
        params[f"{tag_type}[].tag"] = ""  # Plex's documented "remove every association of this type"
    return params
