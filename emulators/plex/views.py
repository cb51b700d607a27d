"""XML the Plex emulator answers with, shaped after what plexapi 4.18.3 reads (plex-api.md §6.3)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Iterable
from urllib.parse import quote

from emulators.plex.model import TAG_ELEMENTS, CollectionArt, EmuItem, PlexLibrary, Section, list_view_tags

MACHINE_ID = "5f3c0e5a0d9c4b1e8a7d2c1b0a998877"
VERSION = "1.41.3.9314-a0bfb8370"
LIBRARY = "com.plexapp.plugins.library"
# Stored fields that are not plain Video attributes (rendered elsewhere or not at all).
_NOT_ATTRIBUTES = {"addedAt", "updatedAt", "ratingKey", "key", "type", "guid"}
FILTER_TAGS = ("genre", "collection", "label", "actor", "director", "writer", "producer", "country")


def to_bytes(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8")


def container(**attrs: object) -> ElementTree.Element:
    return ElementTree.Element("MediaContainer", {k: str(v) for k, v in attrs.items() if v is not None})


def root_container(machine_id: str, version: str = VERSION) -> ElementTree.Element:
    root = container(size=2, friendlyName="plex-emulator", machineIdentifier=machine_id, version=version,
                     platform="Linux", platformVersion="6.1.0", myPlex=0, multiuser=1, allowMediaDeletion=1,
                     transcoderActiveVideoSessions=0, updatedAt=1732300000)
    ElementTree.SubElement(root, "Directory", count="1", key="library", title="library")
    ElementTree.SubElement(root, "Directory", count="1", key="activities", title="activities")
    return root


def identity(machine_id: str, version: str = VERSION) -> ElementTree.Element:
    return container(size=0, claimed=1, machineIdentifier=machine_id, version=version)


def library_root() -> ElementTree.Element:
    root = container(size=1, allowSync=0, identifier=LIBRARY, mediaTagPrefix="/system/bundle/media/flags/",
                     mediaTagVersion=1732300000, title1="Plex Library", title2="")
    ElementTree.SubElement(root, "Directory", key="sections", title="Library Sections")
    return root


def sections(all_sections: Iterable[Section]) -> ElementTree.Element:
    listed = list(all_sections)
    root = container(size=len(listed), allowSync=0, identifier=LIBRARY, title1="Plex Library")
    for section in listed:
        directory = ElementTree.SubElement(root, "Directory", {
            "key": str(section.key), "type": section.type, "title": section.title, "agent": "tv.plex.agents.none",
            "scanner": "Plex Video Files Scanner", "language": "xn", "uuid": section.uuid, "allowSync": "1",
            "filters": "1", "refreshing": "0", "createdAt": "1700000000",
            "updatedAt": "1732300000", "scannedAt": "1732300000", "content": "1", "directory": "1", "hidden": "0",
            "thumb": "/:/resources/video.png", "art": "/:/resources/movie-fanart.jpg",
        })
        for number, path in enumerate(section.locations, start=1):
            ElementTree.SubElement(directory, "Location", id=str(section.key * 100 + number), path=path)
    return root


def _tag_element(library: PlexLibrary, item: EmuItem, parent: ElementTree.Element, tag_type: str, name: str,
                 detail: bool) -> None:
    attrs = {"tag": name}
    if detail:
        tag_id = library.tag_id(tag_type, name)
        attrs.update(id=str(tag_id), filter=f"{tag_type}={tag_id}")
        if tag_type == "actor":
            attrs.update(item.roles.get(name, {}))
            photo = library.actor_photo(name)  # one per actor on the whole server
            if photo:
                attrs["thumb"] = photo
    ElementTree.SubElement(parent, TAG_ELEMENTS.get(tag_type, tag_type.capitalize()), attrs)


def video(library: PlexLibrary, item: EmuItem, *, detail: bool, truncate: bool) -> ElementTree.Element:
    section = library.sections[item.section_id]
    attrs = {"ratingKey": str(item.rating_key), "key": f"/library/metadata/{item.rating_key}",
             "guid": f"local://{item.rating_key}", "type": "movie", "addedAt": str(item.added_stamp),
             "updatedAt": str(item.updated_stamp), "librarySectionID": str(section.key),
             "librarySectionKey": f"/library/sections/{section.key}", "librarySectionTitle": section.title}
    attrs.update({name: value for name, value in item.fields.items() if name not in _NOT_ATTRIBUTES and value})
    element = ElementTree.Element("Video", attrs)
    media_attrs = {"id": str(item.rating_key + 100000), "container": "mp4", "videoCodec": "h264",
                   "videoResolution": "1080"}
    if item.fields.get("duration"):
        media_attrs["duration"] = item.fields["duration"]
    media = ElementTree.SubElement(element, "Media", media_attrs)
    for number, (file, size) in enumerate(item.parts()):  # a multi-file item: one Part per file (plexapi MediaPart)
        part_id = item.rating_key + 200000 + number * 1000000
        extension = file.rsplit(".", 1)[-1] if "." in file else "mp4"
        part = {"id": str(part_id), "key": f"/library/parts/{part_id}/file.{extension}", "file": file,
                "container": extension}
        if size is not None:
            part["size"] = str(size)
        ElementTree.SubElement(media, "Part", part)
    tags = item.tags if detail else list_view_tags(item, truncate)
    for tag_type, names in tags.items():
        for name in names:
            _tag_element(library, item, element, tag_type, name, detail)
    if detail:
        for name in sorted(item.locks):
            ElementTree.SubElement(element, "Field", name=name, locked="1")
    return element


def _section_attrs(library: PlexLibrary, section_id: int | None) -> dict[str, object]:
    if section_id is None:
        return {}
    section = library.sections[section_id]
    return {"librarySectionID": section_id, "librarySectionTitle": section.title,
            "librarySectionUUID": section.uuid, "title1": section.title, "viewGroup": "movie"}


def item_list(library: PlexLibrary, items: list[EmuItem], *, detail: bool, truncate: bool, section_id: int | None,
              total: int | None = None, offset: int = 0) -> ElementTree.Element:
    attrs: dict[str, object] = {"size": len(items), "allowSync": 1, "identifier": LIBRARY,
                                **_section_attrs(library, section_id)}
    if total is not None:
        attrs.update(totalSize=total, offset=offset)
    root = container(**attrs)
    for item in items:
        root.append(video(library, item, detail=detail, truncate=truncate))
    return root


def collection(library: PlexLibrary, section_id: int, rating_key: int, title: str, count: int) -> ElementTree.Element:
    """A collection's Directory; its own poster (``thumb``) and locks (``Field``) once it has them."""
    section = library.sections[section_id]
    art = library.collection_arts.get(rating_key)
    element = ElementTree.Element("Directory", {
        "ratingKey": str(rating_key), "key": f"/library/collections/{rating_key}/children", "type": "collection",
        "subtype": "movie", "title": title, "titleSort": title, "childCount": str(count), "smart": "0",
        "guid": f"collection://{rating_key}", "librarySectionID": str(section_id),
        "librarySectionKey": f"/library/sections/{section_id}", "librarySectionTitle": section.title,
        "addedAt": "1732300000", "updatedAt": "1732300000", "collectionMode": "-1", "collectionSort": "0",
        **({"thumb": art.fields["thumb"]} if art is not None and art.fields.get("thumb") else {})})
    for name in sorted(art.locks if art is not None else ()):
        ElementTree.SubElement(element, "Field", name=name, locked="1")
    return element


def collection_list(library: PlexLibrary, section_id: int, rows: list[tuple[int, str, int]], total: int,
                    offset: int) -> ElementTree.Element:
    root = container(size=len(rows), totalSize=total, offset=offset, allowSync=0, identifier=LIBRARY,
                     **_section_attrs(library, section_id))
    for rating_key, title, count in rows:
        root.append(collection(library, section_id, rating_key, title, count))
    return root


def photos(item: EmuItem | CollectionArt, kind: str, section_id: int) -> ElementTree.Element:
    images = item.posters if kind == "poster" else item.arts
    selected = item.selected_poster if kind == "poster" else item.selected_art
    root = container(size=len(images), identifier=LIBRARY, librarySectionID=section_id)
    for reference in images:
        url = f"/library/metadata/{item.rating_key}/file?url={quote(reference, safe='')}"
        provider = {} if reference.startswith("upload://") else {"provider": "local"}
        ElementTree.SubElement(root, "Photo", key=url, ratingKey=reference, thumb=url,
                               selected="1" if reference == selected else "0", **provider)
    return root


def tag_choices(library: PlexLibrary, section_id: int, tag_type: str) -> ElementTree.Element:
    """``GET /library/sections/{id}/{tag type}``: the values plexapi resolves filter names against."""
    names = sorted({name for item in library.items_in(section_id) for name in item.tags.get(tag_type, [])})
    root = container(size=len(names), allowSync=0, identifier=LIBRARY, **_section_attrs(library, section_id))
    for name in names:
        tag_id = library.tag_id(tag_type, name)
        ElementTree.SubElement(root, "Directory", key=str(tag_id), title=name, type=tag_type,
                               fastKey=f"/library/sections/{section_id}/all?{tag_type}={tag_id}")
    return root
