"""Routes of the Plex emulator: (method, path) → (status, body). Unknown routes and ids answer 404."""

from __future__ import annotations

import re
from re import Match
from typing import Callable

from emulators.plex import meta as plex_meta
from emulators.plex import views as xml
from emulators.plex.edits import apply_edits, parse_edits
from emulators.plex.filters import filter_items, page, paging, sort_items
from emulators.plex.model import CollectionArt, EmuItem
from emulators.plex.request import RecordedRequest, ServedPlex
from emulators.plex.views import FILTER_TAGS

Answer = tuple[int, bytes]
Handler = Callable[[ServedPlex, RecordedRequest, Match[str]], Answer]
NOT_FOUND: Answer = (404, b"<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>")
BAD_REQUEST: Answer = (400, b"<html><head><title>Bad Request</title></head><body><h1>400 Bad Request</h1></body></html>")
EMPTY: Answer = (200, b"")
MOVIE, COLLECTION = "1", "18"


def _ok(root) -> Answer:
    return 200, xml.to_bytes(root)


# -- server and library roots ----------------------------------------------------------------------

def _root(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return _ok(xml.root_container(emu.machine_identifier, emu.version))


def _identity(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return _ok(xml.identity(emu.machine_identifier, emu.version))


def _library(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return _ok(xml.library_root())


def _sections(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    with emu.library.lock:
        wanted = match.group(1)
        listed = [s for key, s in emu.library.sections.items() if wanted is None or str(key) == wanted]
        return _ok(xml.sections(listed)) if listed else NOT_FOUND


def _activities(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return _ok(xml.container(size=0))


# -- listings --------------------------------------------------------------------------------------

def _listing(emu: ServedPlex, request: RecordedRequest, section_ids: list[int]) -> Answer:
    library = emu.library
    with library.lock:
        items = [item for section_id in section_ids for item in library.items_in(section_id)]
        items = sort_items(filter_items(library, items, request.query), request.param("sort"))
        start, size = paging(request.headers, request.param)
        rows, total = page(items, start, size, request.param("limit"))
        section_id = section_ids[0] if len(section_ids) == 1 else None
        root = xml.item_list(library, rows, detail=False, truncate=emu.truncate_list_tags, section_id=section_id,
                             total=total, offset=start)
        if request.param("includeMeta") == "1" and section_id is not None:
            root.append(plex_meta.meta(section_id, collections=False))
        answer = _ok(root)
        if library.after_listing_page is not None:
            library.after_listing_page()  # the page is answered as it was; the change lands before the next
        return answer


def _collections(emu: ServedPlex, request: RecordedRequest, section_id: int) -> Answer:
    library = emu.library
    with library.lock:
        rows = library.collections_in(section_id)
        title = request.param("title")
        if title:
            rows = [row for row in rows if title.casefold() in row[1].casefold()]
        start, size = paging(request.headers, request.param)
        shown, total = page(rows, start, size, request.param("limit"))
        root = xml.collection_list(library, section_id, shown, total, start)
        if request.param("includeMeta") == "1":
            root.append(plex_meta.meta(section_id, collections=True))
        return _ok(root)


def _section_all(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    section_id = int(match.group(1))
    if section_id not in emu.library.sections:
        return NOT_FOUND
    if request.method == "PUT":
        return _edit(emu, request, section_id, request.param("id"))
    if request.param("type") == COLLECTION:
        return _collections(emu, request, section_id)
    return _listing(emu, request, [section_id])


def _section_collections(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    section_id = int(match.group(1))
    return _collections(emu, request, section_id) if section_id in emu.library.sections else NOT_FOUND


def _library_all(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return _listing(emu, request, sorted(emu.library.sections))


def _tag_values(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    section_id, tag_type = int(match.group(1)), match.group(2)
    if section_id not in emu.library.sections or tag_type not in FILTER_TAGS:
        return NOT_FOUND
    with emu.library.lock:
        return _ok(xml.tag_choices(emu.library, section_id, tag_type))


def _refresh(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    library = emu.library
    targets = sorted(library.sections) if match.group(1) == "all" else [int(match.group(1))]
    if any(target not in library.sections for target in targets):
        return NOT_FOUND
    if request.method != "DELETE":  # DELETE cancels a running scan; ours finish at once
        for target in targets:
            emu.record_scan(target, request.param("path"))
            library.scan(target, request.param("path"))
    return EMPTY


# -- metadata --------------------------------------------------------------------------------------

def _items(emu: ServedPlex, ids: str) -> list[EmuItem] | None:
    keys = [int(key) for key in ids.split(",") if key]
    with emu.library.lock:
        if not keys or any(key not in emu.library.items for key in keys):
            return None
        return [emu.library.items[key] for key in keys]


def _edit(emu: ServedPlex, request: RecordedRequest, section_id: int | None, ids: str | None) -> Answer:
    if request.param("type") == COLLECTION and section_id is not None:
        return _edit_collection(emu, request, section_id, ids)
    if request.param("type") not in (None, "", MOVIE):
        return BAD_REQUEST
    if ids:
        targets = _items(emu, ids)
        if targets is None and section_id is not None and emu.missing_item_edits == "ignored":
            with emu.library.lock:  # the filtered set: whichever of the ids the section still has
                wanted = {int(key) for key in ids.split(",") if key}
                targets = [item for item in emu.library.items_in(section_id) if item.rating_key in wanted]
        if targets is None:
            return NOT_FOUND
    else:  # no id: every item of the type in the section (plex-api.md §0.7)
        targets = emu.library.items_in(section_id) if section_id is not None else []
    plan = parse_edits(request.query)
    for item in targets:
        apply_edits(emu.library, item, plan)
    return EMPTY


def _edit_collection(emu: ServedPlex, request: RecordedRequest, section_id: int, ids: str | None) -> Answer:
    """A collection's own field locks (``lockPoster()`` → ``thumb.locked=1`` with type 18, plexapi/base.py
    ``_edit``); an id that is not a collection of this library answers 404 (an edit without one: 400)."""
    if not ids or not ids.isdigit():
        return BAD_REQUEST
    found = emu.library.find_collection(int(ids))
    art = emu.library.collection_art(int(ids))
    if found is None or found[0] != section_id or art is None:
        return NOT_FOUND
    with emu.library.lock:
        for name, locked in parse_edits(request.query).locks:
            (art.locks.add if locked else art.locks.discard)(name)
    return EMPTY


def _collection_detail(emu: ServedPlex, rating_key: int) -> Answer:
    found = emu.library.find_collection(rating_key)
    if found is None:
        return NOT_FOUND
    section_id, title = found
    count = len(emu.library.collection_members(section_id, title))
    root = xml.container(size=1, identifier=xml.LIBRARY, librarySectionID=section_id)
    root.append(xml.collection(emu.library, section_id, rating_key, title, count))
    return _ok(root)


def _collection_reload(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    """A partial plexapi ``Collection`` reloads from ``/library/collections/{ratingKey}``: its key is the listed
    key without ``/children`` (plexapi/collection.py ``_loadData``, "FIX_BUG_50") and base.py's
    ``_buildDetailsKey`` reloads from the key."""
    return _collection_detail(emu, int(match.group(1)))


def _metadata(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    if request.method == "PUT":
        return _edit(emu, request, None, match.group(1))
    with emu.library.lock:
        items = _items(emu, match.group(1))
        if items is None:
            return _collection_detail(emu, int(match.group(1))) if match.group(1).isdigit() else NOT_FOUND
        return _ok(xml.item_list(emu.library, items, detail=True, truncate=False, section_id=items[0].section_id))


def _children(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    library = emu.library
    with library.lock:
        found = library.find_collection(int(match.group(1)))
        if found is None:
            return NOT_FOUND
        section_id, title = found
        members = library.collection_members(section_id, title)
        start, size = paging(request.headers, request.param)
        rows, total = page(members, start, size, request.param("limit"))
        return _ok(xml.item_list(library, rows, detail=False, truncate=emu.truncate_list_tags,
                                 section_id=section_id, total=total, offset=start))


def _one_item(emu: ServedPlex, match: Match[str]) -> EmuItem | CollectionArt | None:
    """The item, or the collection, the ratingKey names (both take images)."""
    key = int(match.group(1))
    return emu.library.items.get(key) or emu.library.collection_art(key)


def _images(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    item = _one_item(emu, match)
    if item is None:
        return NOT_FOUND
    kind = "poster" if match.group(2) == "posters" else "art"
    if request.method == "POST":
        if not request.body and not request.param("url"):
            return BAD_REQUEST
        emu.library.add_image(item, kind, request.body or None, request.param("url"))
        return EMPTY
    with emu.library.lock:
        return _ok(xml.photos(item, kind, _section_of(emu, item)))


def _section_of(emu: ServedPlex, item: EmuItem | CollectionArt) -> int:
    if isinstance(item, EmuItem):
        return item.section_id
    found = emu.library.find_collection(item.rating_key)
    return found[0] if found else 0


def _select_image(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    item = _one_item(emu, match)
    if item is None:
        return NOT_FOUND
    kind = "poster" if match.group(2) in ("poster", "thumb") else "art"
    if request.method == "DELETE":
        emu.library.select_image(item, kind, None)
        return EMPTY
    if not request.param("url"):
        return BAD_REQUEST
    emu.library.select_image(item, kind, request.param("url"))
    return EMPTY


def _item_action(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    return EMPTY if emu.library.items.get(int(match.group(1))) is not None else NOT_FOUND


def _rate(emu: ServedPlex, request: RecordedRequest, match: Match[str]) -> Answer:
    key = request.param("key") or ""
    if not key.isdigit() or int(key) not in emu.library.items:
        return NOT_FOUND
    rating = request.param("rating") or ""
    try:
        value = float(rating)
    except ValueError:
        return BAD_REQUEST
    if rating != "-1" and not 0 <= value <= 10:  # plexapi refuses these client-side; PMS's answer is unverified
        return BAD_REQUEST
    emu.library.rate(int(key), rating)
    return EMPTY


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [(set(methods.split()), re.compile(pattern), handler) for
                                                          methods, pattern, handler in (
    ("GET", r"^/$", _root),
    ("GET", r"^/identity$", _identity),
    ("GET", r"^/library$", _library),
    ("GET", r"^/library/sections(?:/(\d+))?$", _sections),
    ("GET", r"^/activities$", _activities),
    ("GET PUT", r"^/library/sections/(\d+)/all$", _section_all),
    ("GET", r"^/library/sections/(\d+)/collections$", _section_collections),
    ("GET POST DELETE", r"^/library/sections/(\d+|all)/refresh$", _refresh),
    ("GET", r"^/library/sections/(\d+)/(\w+)$", _tag_values),
    ("GET", r"^/library/all$", _library_all),
    ("GET PUT", r"^/library/metadata/(\d+(?:,\d+)*)$", _metadata),
    ("GET", r"^/library/(?:metadata|collections)/(\d+)/children$", _children),
    ("GET", r"^/library/collections/(\d+)$", _collection_reload),
    ("GET POST", r"^/library/metadata/(\d+)/(posters|arts)$", _images),
    ("PUT", r"^/library/metadata/(\d+)/(poster|art)$", _select_image),
    ("DELETE", r"^/library/metadata/(\d+)/(thumb|art)$", _select_image),
    ("PUT", r"^/library/metadata/(\d+)/(refresh|analyze)$", _item_action),
    ("PUT", r"^/:/rate$", _rate),
)]


def route(emu: ServedPlex, request: RecordedRequest) -> Answer:
    path = request.path.rstrip("/") or "/"
    for methods, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and request.method in methods:
            try:
                return handler(emu, request, match)
            except ValueError:  # a malformed number in the query string
                return BAD_REQUEST
    return NOT_FOUND
