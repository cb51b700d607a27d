"""Routes of the Plex emulator: (method, path) → (status, body). Unknown routes and ids answer 404."""

from __future__ import annotations

import re
from typing import Any

from emulators import plex_xml as xml

NOT_FOUND = (404, b"<html><h1>404 Not Found</h1></html>")
EMPTY = (200, b"")
_SECTION_ALL = re.compile(r"^/library/sections/(\d+)/all$")
_SECTION_REFRESH = re.compile(r"^/library/sections/(\d+|all)/refresh$")
_METADATA = re.compile(r"^/library/metadata/([\d,]+)$")
_IMAGES = re.compile(r"^/library/metadata/(\d+)/(posters|arts)$")
_SELECT_IMAGE = re.compile(r"^/library/metadata/(\d+)/(poster|art)$")
_EDIT_CONTROL = {"type", "id", "includeExternalMedia", "X-Plex-Token"}


def _ok(root: Any) -> tuple[int, bytes]:
    return 200, xml.to_bytes(root)


def _paging(request: Any) -> tuple[int, int | None]:
    start = request.headers.get("x-plex-container-start") or request.param("X-Plex-Container-Start") or "0"
    size = request.headers.get("x-plex-container-size") or request.param("X-Plex-Container-Size")
    return int(start), (int(size) if size not in (None, "") else None)


def _filtered(items: list, request: Any) -> list:
    for key, value in request.query:
        if key == "title":
            items = [i for i in items if value.casefold() in i.fields.get("title", "").casefold()]
        elif key == "file":
            items = [i for i in items if value in i.file]
        elif key in ("addedAt>>", "addedAt>"):
            items = [i for i in items if i.added_at >= int(value.lstrip("="))]
        elif key in ("updatedAt>>", "updatedAt>"):
            items = [i for i in items if i.updated_at >= int(value.lstrip("="))]
        elif key == "sort":
            field, _, direction = value.partition(":")
            attribute = {"addedAt": "added_at", "updatedAt": "updated_at"}.get(field.split(".")[-1], "rating_key")
            items = sorted(items, key=lambda i: getattr(i, attribute), reverse=direction == "desc")
    return items


def _section_listing(emulator: Any, request: Any, section_id: int) -> tuple[int, bytes]:
    library = emulator.library
    with library.lock:
        items = _filtered(sorted(library.items_in(section_id), key=lambda i: i.rating_key), request)
        start, size = _paging(request)
        if request.param("limit"):
            size = int(request.param("limit"))
        page = items[start:] if size is None else items[start:start + size]
        return _ok(xml.item_list(library, page, detail=False, truncate=emulator.truncate_list_tags,
                                 section_id=section_id, total=len(items), offset=start))


def _targets(emulator: Any, request: Any, section_id: int | None, ids: str | None) -> list | None:
    library = emulator.library
    if ids:
        keys = [int(key) for key in ids.split(",") if key]
        if any(key not in library.items for key in keys):
            return None
        return [library.items[key] for key in keys]
    return library.items_in(section_id) if section_id is not None else []


def _edit(emulator: Any, request: Any, section_id: int | None, ids: str | None) -> tuple[int, bytes]:
    targets = _targets(emulator, request, section_id, ids)
    if targets is None:
        return NOT_FOUND
    if request.param("type") not in (None, "1"):
        return 400, b"<html><h1>400 Bad Request</h1></html>"
    edits = [(key, value) for key, value in request.query if key not in _EDIT_CONTROL]
    for item in targets:
        emulator.library.apply_edit(item, edits)
    return EMPTY


def _sections_route(emulator: Any, request: Any) -> tuple[int, bytes] | None:
    library = emulator.library
    match = _SECTION_ALL.match(request.path)
    if match:
        section_id = int(match.group(1))
        if section_id not in library.sections:
            return NOT_FOUND
        if request.method == "GET":
            return _section_listing(emulator, request, section_id)
        if request.method == "PUT":
            return _edit(emulator, request, section_id, request.param("id"))
    match = _SECTION_REFRESH.match(request.path)
    if match:
        targets = list(library.sections) if match.group(1) == "all" else [int(match.group(1))]
        if any(target not in library.sections for target in targets):
            return NOT_FOUND
        if request.method != "DELETE":
            for target in targets:
                emulator.scan_requests.append((target, request.param("path")))
                library.scan(target, request.param("path"))
        return EMPTY
    return None


def _metadata_route(emulator: Any, request: Any) -> tuple[int, bytes] | None:
    library = emulator.library
    match = _METADATA.match(request.path)
    if match:
        if request.method == "PUT":
            return _edit(emulator, request, None, match.group(1))
        items = _targets(emulator, request, None, match.group(1))
        if not items:
            return NOT_FOUND
        with library.lock:
            section_id = items[0].section_id
            return _ok(xml.item_list(library, items, detail=True, truncate=False, section_id=section_id))
    match = _IMAGES.match(request.path)
    if match:
        item = library.items.get(int(match.group(1)))
        if item is None:
            return NOT_FOUND
        kind = "poster" if match.group(2) == "posters" else "art"
        if request.method == "POST":
            library.upload_image(item, kind, request.body or None, request.param("url"))
            return EMPTY
        return _ok(xml.photos(item, kind))
    match = _SELECT_IMAGE.match(request.path)
    if match and request.method == "PUT":
        item = library.items.get(int(match.group(1)))
        if item is None:
            return NOT_FOUND
        with library.lock:
            reference = request.param("url") or ""
            if match.group(2) == "poster":
                item.selected_poster = reference
            else:
                item.selected_art = reference
        return EMPTY
    return None


def route(emulator: Any, request: Any) -> tuple[int, bytes]:
    library = emulator.library
    path = request.path.rstrip("/") or "/"
    request.path = path
    if path == "/" and request.method == "GET":
        return _ok(xml.root_container(emulator.machine_identifier))
    if path == "/identity":
        return _ok(xml.identity(emulator.machine_identifier))
    if path == "/library" and request.method == "GET":
        return _ok(xml.library_root())
    if path == "/library/sections" and request.method == "GET":
        with library.lock:
            return _ok(xml.sections(library.sections.values()))
    if path == "/activities":
        return _ok(xml.container(size=0))
    if path == "/:/rate" and request.method == "PUT":
        item = library.items.get(int(request.param("key") or 0))
        if item is None:
            return NOT_FOUND
        rating = request.param("rating") or ""
        with library.lock:
            item.fields["userRating"] = "" if rating == "-1" else rating
        return EMPTY
    for handler in (_sections_route, _metadata_route):
        answer = handler(emulator, request)
        if answer is not None:
            return answer
    return NOT_FOUND
