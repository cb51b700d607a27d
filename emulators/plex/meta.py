"""The ``<Meta>`` filter description PMS returns for ``includeMeta=1`` (plex-api.md §2.2, §6.3g).

plexapi loads it before any search that uses filters or sorts, then validates field names and operators
against it client-side; the emulator implements the filters and sorts it advertises (see plex_routes).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from emulators.plex.views import FILTER_TAGS

SORTS = (("titleSort", "asc", "Title"), ("addedAt", "desc", "Date Added"), ("updatedAt", "desc", "Date Updated"),
         ("originallyAvailableAt", "desc", "Release Date"), ("year", "desc", "Year"),
         ("userRating", "desc", "User Rating"), ("rating", "desc", "Critic Rating"))
FIELDS = (("title", "Title", "string"), ("studio", "Studio", "string"), ("contentRating", "Content Rating", "string"),
          ("year", "Year", "integer"), ("userRating", "User Rating", "integer"), ("addedAt", "Date Added", "date"),
          ("updatedAt", "Date Updated", "date"), ("originallyAvailableAt", "Release Date", "date"),
          *((tag, tag.capitalize(), "tag") for tag in FILTER_TAGS))
OPERATORS = {
    "tag": (("=", "is"), ("!=", "is not")),
    "string": (("=", "contains"), ("!=", "does not contain"), ("==", "is"), ("!==", "is not"),
               ("<=", "begins with"), (">=", "ends with")),
    "integer": (("=", "is"), ("!=", "is not"), (">>=", "is greater than"), ("<<=", "is less than")),
    "date": (("<<=", "is before"), (">>=", "is after")),
}


def _movie_type(section_id: int) -> ElementTree.Element:
    movie = ElementTree.Element("Type", key=f"/library/sections/{section_id}/all?type=1", type="movie",
                                title="Movies", active="1")
    for tag in FILTER_TAGS:
        ElementTree.SubElement(movie, "Filter", filter=tag, filterType="string", title=tag.capitalize(),
                               key=f"/library/sections/{section_id}/{tag}", type="filter")
    for key, direction, title in SORTS:
        ElementTree.SubElement(movie, "Sort", key=key, defaultDirection=direction, descKey=f"{key}:desc",
                               title=title)
    for key, title, kind in FIELDS:
        ElementTree.SubElement(movie, "Field", key=key, title=title, type=kind)
    return movie


def _collection_type(section_id: int) -> ElementTree.Element:
    collection = ElementTree.Element("Type", key=f"/library/sections/{section_id}/all?type=18", type="collection",
                                     title="Collections", active="0")
    ElementTree.SubElement(collection, "Sort", key="titleSort", defaultDirection="asc", descKey="titleSort:desc",
                           title="Title")
    ElementTree.SubElement(collection, "Field", key="title", title="Title", type="string")
    return collection


def meta(section_id: int, collections: bool) -> ElementTree.Element:
    element = ElementTree.Element("Meta")
    element.append(_collection_type(section_id) if collections else _movie_type(section_id))
    for kind, operators in OPERATORS.items():
        field_type = ElementTree.SubElement(element, "FieldType", type=kind)
        for key, title in operators:
            ElementTree.SubElement(field_type, "Operator", key=key, title=title)
    return element
