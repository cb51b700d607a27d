"""XML the Plex emulator answers with, shaped after what plexapi 4.18.3 reads (plex-api.md §6.3)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Iterable

from emulators.plex_model import TAG_ELEMENTS, EmuItem, PlexLibrary, Section, list_view_tags

MACHINE_ID = "5f3c0e5a0d9c4b1e8a7d2c1b0a998877"
VERSION = "1.41.3.9314-a0bfb8370"
ITEM_FIELDS = ("title", "titleSort", "summary", "tagline", "studio", "contentRating", "year",
               "originallyAvailableAt", "userRating", "thumb", "art", "originalTitle")


def to_bytes(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8")


def container(**attrs: object) -> ElementTree.Element:
    return ElementTree.Element("MediaContainer", {k: str(v) for k, v in attrs.items() if v is not None})


def root_container(machine_id: str) -> ElementTree.Element:
    return container(size=0, friendlyName="plex-emulator", machineIdentifier=machine_id, version=VERSION,
                     platform="Linux", platformVersion="6.1.0", myPlex=0, multiuser=1, allowMediaDeletion=1,
                     transcoderActiveVideoSessions=0, updatedAt=1732300000)


def identity(machine_id: str) -> ElementTree.Element:
    return container(size=0, claimed=1, machineIdentifier=machine_id, version=VERSION)


def library_root() -> ElementTree.Element:
    root = container(size=1, allowSync=0, identifier="com.plexapp.plugins.library", title1="Plex Library")
    ElementTree.SubElement(root, "Directory", key="sections", title="Library Sections")
    return root


def sections(all_sections: Iterable[Section]) -> ElementTree.Element:
    listed = list(all_sections)
    root = container(size=len(listed), allowSync=0, identifier="com.plexapp.plugins.library", title1="Plex Library")
    for section in listed:
        directory = ElementTree.SubElement(root, "Directory", {
            "key": str(section.key), "type": section.type, "title": section.title, "agent": "tv.plex.agents.none",
            "scanner": "Plex Video Files Scanner", "language": "xn", "uuid": section.uuid, "allowSync": "1",
            "filters": "1", "refreshing": "0", "createdAt": "1700000000", "updatedAt": "1732300000",
            "scannedAt": "1732300000", "content": "1", "directory": "1", "hidden": "0",
        })
        for number, path in enumerate(section.locations, start=1):
            ElementTree.SubElement(directory, "Location", id=str(section.key * 100 + number), path=path)
    return root


def video(library: PlexLibrary, item: EmuItem, *, detail: bool, truncate: bool) -> ElementTree.Element:
    attrs = {"ratingKey": str(item.rating_key), "key": f"/library/metadata/{item.rating_key}",
             "guid": f"local://{item.rating_key}", "type": "movie", "addedAt": str(item.added_at),
             "updatedAt": str(item.updated_at), "librarySectionID": str(item.section_id),
             "librarySectionKey": f"/library/sections/{item.section_id}",
             "librarySectionTitle": library.sections[item.section_id].title}
    attrs.update({name: item.fields[name] for name in ITEM_FIELDS if item.fields.get(name) not in (None, "")})
    element = ElementTree.Element("Video", attrs)
    media = ElementTree.SubElement(element, "Media", id=str(item.rating_key + 100000), container="mp4",
                                   videoCodec="h264", videoResolution="1080")
    part = {"id": str(item.rating_key + 200000), "key": f"/library/parts/{item.rating_key}/file.mp4",
            "file": item.file, "container": "mp4"}
    if item.size is not None:
        part["size"] = str(item.size)
    ElementTree.SubElement(media, "Part", part)
    tags = item.tags if detail else list_view_tags(item, truncate)
    for tag_type, names in tags.items():
        element_name = TAG_ELEMENTS.get(tag_type, tag_type.capitalize())
        for name in names:
            tag_id = library.tag_id(tag_type, name)
            attrs = {"tag": name}
            if detail:
                attrs.update(id=str(tag_id), filter=f"{tag_type}={tag_id}")
                if tag_type == "actor" and name in item.roles:
                    attrs.update({k: v for k, v in item.roles[name].items() if v})
            ElementTree.SubElement(element, element_name, attrs)
    if detail:
        for name in sorted(item.locks):
            ElementTree.SubElement(element, "Field", name=name, locked="1")
    return element


def item_list(library: PlexLibrary, items: list[EmuItem], *, detail: bool, truncate: bool, section_id: int | None,
              total: int | None = None, offset: int = 0) -> ElementTree.Element:
    attrs = {"size": len(items), "allowSync": 1, "identifier": "com.plexapp.plugins.library"}
    if section_id is not None:
        section = library.sections[section_id]
        attrs.update(librarySectionID=section_id, librarySectionTitle=section.title,
                     librarySectionUUID=section.uuid, title1=section.title, viewGroup="movie")
    if total is not None:
        attrs.update(totalSize=total, offset=offset)
    root = container(**attrs)
    for item in items:
        root.append(video(library, item, detail=detail, truncate=truncate))
    return root


def photos(item: EmuItem, kind: str) -> ElementTree.Element:
    images = item.posters if kind == "poster" else item.arts
    selected = item.selected_poster if kind == "poster" else item.selected_art
    root = container(size=len(images), identifier="com.plexapp.plugins.library", librarySectionID=item.section_id)
    for reference in images:
        ElementTree.SubElement(root, "Photo", key=f"/library/metadata/{item.rating_key}/file?url={reference}",
                               ratingKey=reference, selected="1" if reference == selected else "0",
                               thumb=f"/library/metadata/{item.rating_key}/file?url={reference}")
    return root
