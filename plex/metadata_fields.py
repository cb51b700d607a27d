"""The Plex fields PlexSync writes: how values compare, how Plex's current values are read, and the query
parameters of an edit (plexapi's own tag helper, so encoding is exactly plexapi's), grouped for PUTs.

Tag lists are exact sets sent whole as ``genre[0].tag.tag=…`` (the whole-list rule, ``plex.edit_requests``;
plexapi's ``editTags`` re-sends existing + new for that reason), so names no longer wanted need no removal of
their own; an empty list is cleared with ``genre[].tag=``. Every written field is locked so an agent refresh
cannot undo it; a lock can also be sent on its own (a right value Plex has not locked yet, an uploaded image).

Plex keeps one tag per name ignoring case and gives a name the spelling of a tag already in use ("action" comes
back "Action"), so a tag list read from Plex is compared ignoring case (``same``), while Stash's wanted list is
compared with what we wrote last exactly (``identical``): a case-only rename in Stash is a change to write.
The old spelling is removed before the new one is sent (``plex.edit_requests``); that takes effect when no
other item on the server carries the old spelling at that moment. While one does (a Stash tag rename re-syncs
its scenes one after another; a Plex item PlexSync does not manage may keep it), Plex keeps the old spelling
here too, which compares equal: nothing is rewritten on each read and nothing freezes.

Actor photos (``actorThumb``: actor name → photo URL) are part of the actor field: Plex keeps a photo only as
``actor[i].tag.thumb`` sent with the cast, and a cast sent without an actor's thumb loses that actor's photo
(plex-api.md §3.4), so whenever the cast is written every photo known for it goes along, and a changed photo
writes the cast again. The wanted photos compare as "each of these actors has this URL"; an actor without one
keeps whatever Plex shows.
"""

from __future__ import annotations

from typing import Any, Iterable

from plexapi.mixins import EditTagsMixin

SCALARS = ("title", "summary", "tagline", "originallyAvailableAt", "year", "studio", "userRating", "titleSort",
           "contentRating")
TAG_TYPES = ("director", "genre", "actor", "collection")
PHOTOS = "actorThumb"
FIELDS = SCALARS + TAG_TYPES + (PHOTOS,)
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


def photos(values: Any) -> dict[str, str]:
    """Actor name → photo URL, empty ones dropped."""
    if not isinstance(values, dict):
        return {}
    return {str(name): str(url) for name, url in values.items() if name and url}


def photos_cover(left: Any, right: Any) -> bool:
    """Every actor in ``right`` has the same photo in ``left`` (names ignoring case, as Plex matches them)."""
    shown = {name.casefold(): url for name, url in photos(left).items()}
    return all(shown.get(name.casefold()) == url for name, url in photos(right).items())


def cast_photos(cast: Iterable[str], before: Any, wanted: Any) -> dict[str, str]:
    """The photo each cast member gets when the cast is written: the wanted one, else the one already known
    (a photo the user chose in Plex, or one written earlier, must not be lost by re-sending the cast)."""
    known = {name.casefold(): url for name, url in photos(before).items()}
    known.update({name.casefold(): url for name, url in photos(wanted).items()})
    return {name: known[name.casefold()] for name in tag_names(cast) if name.casefold() in known}


def same(name: str, left: Any, right: Any) -> bool:
    """Equal as Plex sees it: tag lists as sets of names ignoring case; photos as "left shows right's"."""
    if name == PHOTOS:
        return photos_cover(left, right)
    if name in TAG_TYPES:
        return {tag.casefold() for tag in tag_names(left)} == {tag.casefold() for tag in tag_names(right)}
    return scalar_text(name, left) == scalar_text(name, right)


def identical(name: str, left: Any, right: Any) -> bool:
    """Equal as Stash sees it: tag names spelled exactly alike (a case-only rename is a difference)."""
    if name in TAG_TYPES:
        return set(tag_names(left)) == set(tag_names(right))
    return same(name, left, right)


def json_value(name: str, value: Any) -> Any:
    """A wanted value in a JSON-safe form (dates become ``YYYY-MM-DD``)."""
    if name in TAG_TYPES:
        return tag_names(value)
    if name == PHOTOS:
        return photos(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return scalar_text(name, value)


def current_values(item: Any) -> dict[str, Any]:
    """A full (detail) plexapi item's values, in the shape of ``wanted``."""
    values: dict[str, Any] = {name: scalar_text(name, getattr(item, name, None)) for name in SCALARS}
    for tag_type, attribute in PLEX_TAG_ATTRIBUTE.items():
        values[tag_type] = [tag.tag for tag in getattr(item, attribute, None) or []]
    values[PHOTOS] = photos({role.tag: getattr(role, "thumb", None) for role in getattr(item, "roles", None) or []})
    return values


def current_locks(item: Any) -> set[str]:
    """The fields a full (detail) plexapi item has locked (its ``<Field name locked="1"/>`` children)."""
    return {field.name for field in getattr(item, "fields", None) or [] if field.locked}


def lock_names(names: Iterable[str]) -> list[str]:
    """The Plex fields locked when ``names`` are written, each once (photos are part of the actor field, which
    has the lock)."""
    return list(dict.fromkeys(lock for name in names if name != PHOTOS
                              for lock in LOCKED_TOGETHER.get(name, (name,))))


def missing_locks(names: Iterable[str], locked: set[str]) -> list[str]:
    """The locks writing ``names`` calls for that Plex does not hold yet."""
    return [lock for lock in lock_names(names) if lock not in locked]


def image_locks(kinds: Iterable[str]) -> list[str]:
    return [IMAGE_LOCK[kind] for kind in kinds]


def final_collections(current: Iterable[str], ours_before: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """(Plex's current − the ones PlexSync added before) ∪ wanted: the user's own collections survive. Names
    match ignoring case, as in Plex; a wanted spelling wins over Plex's."""
    previous = {name.casefold() for name in ours_before}
    names = tag_names(wanted)
    wanted_keys = {name.casefold() for name in names}
    return tag_names([name for name in current if name.casefold() not in previous | wanted_keys] + names)


def scalar_group(name: str, value: Any) -> dict[str, Any]:
    """The parameters writing and locking one scalar."""
    return {f"{name}.value": scalar_text(name, value), **lock_params([name])}


def lock_params(names: Iterable[str]) -> dict[str, int]:
    return {f"{lock}.locked": 1 for lock in lock_names(names)}


def renamed_spellings(old: Iterable[str], names: list[str]) -> list[str]:
    """Old spellings of names still wanted in another case ("Action" when "action" is wanted), removed in an
    earlier PUT of their own: in one request PMS would resolve the new name to the old tag still in use, or
    could match the removal ignoring case after adding, taking the new spelling away too; two requests are
    right whatever order PMS applies one request's parts in."""
    wanted = {name.casefold() for name in names}
    exact = set(names)
    return [name for name in tag_names(old) if name.casefold() in wanted and name not in exact]


def removal_params(tag_type: str, removed: list[str]) -> dict[str, Any]:
    return EditTagsMixin._tagHelper(tag_type, removed, locked=True, remove=True)


def tag_params(tag_type: str, names: list[str], thumbs: dict[str, str] | None = None) -> dict[str, Any]:
    """``names`` as the item's whole list of ``tag_type`` (an empty list clears the type: Plex's documented
    "remove every association of this type"); ``thumbs``: a photo URL per name, sent on the name's own entry
    (``actor[3].tag.thumb``)."""
    params: dict[str, Any] = {f"{tag_type}.locked": 1}
    if not names:
        params[f"{tag_type}[].tag"] = ""
    params.update({f"{tag_type}[{index}].tag.tag": name for index, name in enumerate(names)})
    params.update({f"{tag_type}[{index}].tag.thumb": thumbs[name]
                   for index, name in enumerate(names) if thumbs and thumbs.get(name)})
    return params
