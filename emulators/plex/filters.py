"""Filtering, sorting and paging of section listings, as PMS reads its media-query string.

Operators ride in the key (plexapi: ``title==X`` → key ``title=``; ``addedAt>>=N`` → key ``addedAt>>`` once
requests has percent-encoded the ``>``), so the operator is the key's trailing symbols plus the ``=`` that
separated key and value. String ``=`` is "contains" (case-insensitive); tag filters take ids or names, comma = or.
``file=`` is PMS's undocumented substring match on ``Part@file``.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any, Callable

from emulators.plex.meta import SORTS
from emulators.plex.model import EmuItem, PlexLibrary
from emulators.plex.views import FILTER_TAGS

DATE_FIELDS = {"addedAt", "updatedAt", "originallyAvailableAt", "lastViewedAt"}
NUMBER_FIELDS = {"year", "userRating", "rating", "audienceRating", "duration", "viewCount"}
_KEY = re.compile(r"^(?:\w+\.)?([A-Za-z_]+)([!<>=]*)$")
_RELATIVE = re.compile(r"^-?(\d+)(mon|[smhdwy])$")
_UNITS = {"mon": 2592000, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_OPERATORS = {"=", "!=", "==", "!==", "<=", ">=", ">>=", "<<="}


def _operator(key_symbols: str) -> str:
    operator = key_symbols + "="
    if operator not in _OPERATORS and operator.endswith("==") and operator[:-1] in _OPERATORS:
        operator = operator[:-1]  # the key already carried its '=' (client encoded it): ``addedAt>>=`` + value
    return operator


def _plex_stamp(value: str, clock: Callable[[], float] = time.time) -> int:
    relative = _RELATIVE.match(value)
    if relative:
        return int(clock()) - int(relative.group(1)) * _UNITS[relative.group(2)]
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return int(time.mktime(date.fromisoformat(value).timetuple()))
    return int(float(value))


def _item_value(item: EmuItem, name: str) -> Any:
    if name == "id":
        return item.rating_key
    if name == "addedAt":
        return item.added_stamp
    if name == "updatedAt":
        return item.updated_stamp
    if name == "file":
        return item.file
    if name == "titleSort":
        return item.fields.get("titleSort") or item.fields.get("title", "")
    return item.fields.get(name)


def _compare(operator: str, actual: float | None, bound: float, *, strict_before: bool = False) -> bool:
    if actual is None:
        return False
    if operator == ">>=":
        return actual >= bound
    if operator == "<<=":
        return actual < bound if strict_before else actual <= bound
    if operator == "!=":
        return actual != bound
    return actual == bound


def _string_match(operator: str, actual: str, wanted: str) -> bool:
    actual, wanted = actual.casefold(), wanted.casefold()
    return {"=": wanted in actual, "!=": wanted not in actual, "==": actual == wanted, "!==": actual != wanted,
            "<=": actual.startswith(wanted), ">=": actual.endswith(wanted)}.get(operator, False)


def _tag_match(library: PlexLibrary, item: EmuItem, tag_type: str, operator: str, value: str) -> bool:
    names = set(item.tags.get(tag_type, []))
    wanted = set()
    for token in value.split(","):
        name = library.tag_name(tag_type, int(token)) if token.isdigit() else token
        wanted.add(name if name is not None else token)
    hit = bool(names & wanted)
    return not hit if operator == "!=" else hit


def item_matches(library: PlexLibrary, item: EmuItem, name: str, operator: str, value: str) -> bool:
    if name in FILTER_TAGS:
        return _tag_match(library, item, name, operator, value)
    if name == "file":  # any of the item's parts (a multi-file item has several)
        return any(_string_match(operator, file, value) for file, _ in item.parts())
    if name in DATE_FIELDS:
        actual = _item_value(item, name)
        if name == "originallyAvailableAt" and actual:
            actual = _plex_stamp(str(actual))
        return _compare(operator, actual, _plex_stamp(value), strict_before=True)
    if name in NUMBER_FIELDS:
        actual = _item_value(item, name)
        return _compare(operator, float(actual) if actual not in (None, "") else None, float(value))
    return _string_match(operator, str(_item_value(item, name) or ""), value)


FILTERABLE = DATE_FIELDS | NUMBER_FIELDS | set(FILTER_TAGS) | {
    "title", "titleSort", "studio", "summary", "tagline", "contentRating", "originalTitle", "file"}


def filter_items(library: PlexLibrary, items: list[EmuItem], query: list[tuple[str, str]]) -> list[EmuItem]:
    for key, value in query:
        parsed = _KEY.match(key)
        if not parsed or parsed.group(1) not in FILTERABLE:
            continue  # includeGuids, type, sort, paging … and fields PMS would ignore
        name, operator = parsed.group(1), _operator(parsed.group(2))
        items = [item for item in items if item_matches(library, item, name, operator, value)]
    return items


# What ``sort=`` takes: the sorts the section's Meta advertises, plus those plexapi adds by hand because PMS honours
# them without advertising them (plexapi library.py ``_manualSorts``: guid, id = ratingKey, summary, tagline,
# updatedAt). Anything else is refused, as plexapi's ``_validateSortField`` refuses it client-side.
SORTABLE = {key for key, _, _ in SORTS} | {"guid", "id", "summary", "tagline", "updatedAt"}
SORT_DIRECTIONS = ("", "asc", "desc", "nullsLast")  # plexapi ``_validateSortField``
NUMERIC_SORTS = (DATE_FIELDS | NUMBER_FIELDS | {"id"}) - {"originallyAvailableAt"}


def sort_items(items: list[EmuItem], sort: str | None) -> list[EmuItem]:
    """``sort=addedAt:desc,titleSort`` (optionally ``movie.addedAt``); stable, applied last key first.

    Without ``sort`` PMS orders a section listing by title (the default sort its Meta advertises is ``titleSort``;
    plex-api.md, addendum), so an item renamed while a listing is paged moves across pages. An unknown field or
    direction raises ValueError (the route answers 400)."""
    if not sort:
        return sorted(items, key=lambda item: (_sort_key(item, "titleSort"), item.rating_key))
    ordered = sorted(items, key=lambda item: item.rating_key)
    for part in reversed(sort.split(",")):
        name, _, direction = part.strip().partition(":")
        name = name.rsplit(".", 1)[-1]
        if name not in SORTABLE or direction not in SORT_DIRECTIONS:
            raise ValueError(f"unknown sort {part!r}")
        ordered = sorted(ordered, key=lambda item, n=name: _sort_key(item, n), reverse=direction == "desc")
    return ordered


def _sort_key(item: EmuItem, name: str) -> tuple[int, Any]:
    value = _item_value(item, name)
    if name in NUMERIC_SORTS:
        return (0, float(value)) if value not in (None, "") else (-1, 0.0)
    return (0, str(value or "").casefold()) if value not in (None, "") else (-1, "")


def paging(headers: dict[str, str], param: Callable[[str], str | None]) -> tuple[int, int | None]:
    """Container start/size from the headers plexapi sends, or from the query string."""
    start = headers.get("x-plex-container-start") or param("X-Plex-Container-Start") or "0"
    size = headers.get("x-plex-container-size") or param("X-Plex-Container-Size")
    return int(start), (int(size) if size not in (None, "") else None)


def page(rows: list, start: int, size: int | None, limit: str | None) -> tuple[list, int]:
    """(rows of this page, total) where ``limit`` caps the total like PMS does."""
    if limit not in (None, ""):
        rows = rows[: int(limit)]
    return (rows[start:] if size is None else rows[start:start + size]), len(rows)
