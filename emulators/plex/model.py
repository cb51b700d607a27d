"""The Plex emulator's library: sections, items, collections, tag ids, images and scans (the state that
:mod:`emulators.plex.edits` acts on)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

TAG_ELEMENTS = {"genre": "Genre", "actor": "Role", "director": "Director", "collection": "Collection",
                "label": "Label", "writer": "Writer", "producer": "Producer", "country": "Country",
                "mood": "Mood", "style": "Style", "similar": "Similar"}
# Real PMS list/search views carry only the first few tags of these types (plex-api.md §0.1).
LIST_VIEW_LIMITS = {"genre": 2, "director": 1, "writer": 1, "country": 1, "actor": 3}
IMAGE_KINDS = {"poster": ("posters", "thumb"), "art": ("art", "art")}  # kind → (upload folder, item attribute)


@dataclass
class Section:
    key: int
    title: str
    type: str
    locations: list[str]
    uuid: str
    collections: dict[str, int] = field(default_factory=dict)  # collection title → its ratingKey


@dataclass
class EmuItem:
    rating_key: int
    section_id: int
    file: str
    size: int | None
    added_stamp: int
    updated_stamp: int
    fields: dict[str, str] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)  # actor name → {role, tagKey} on this item
    locks: set[str] = field(default_factory=set)
    posters: list[str] = field(default_factory=list)
    arts: list[str] = field(default_factory=list)
    selected_poster: str | None = None
    selected_art: str | None = None
    # Files beyond ``file`` (cd1/cd2 parts, or a merged or optimized version): each is one more Media/Part.
    more_parts: list[tuple[str, int | None]] = field(default_factory=list)

    def parts(self) -> list[tuple[str, int | None]]:
        """(file, size) of every media part, the first one first."""
        return [(self.file, self.size), *self.more_parts]


@dataclass
class CollectionArt:
    """A collection's own images and locks: a collection is an item of its own (plexapi's ``Collection`` takes
    ``CollectionMixins`` with ``PosterMixin``/``ArtMixin``, plexapi/mixins/__init__.py), so uploads to
    ``/library/metadata/{its ratingKey}/posters``, selection and locks work as on an ``EmuItem``."""

    rating_key: int
    updated_stamp: int
    fields: dict[str, str] = field(default_factory=dict)
    locks: set[str] = field(default_factory=set)
    posters: list[str] = field(default_factory=list)
    arts: list[str] = field(default_factory=list)
    selected_poster: str | None = None
    selected_art: str | None = None


@dataclass
class PendingFile:
    section_id: int
    file: str
    size: int | None
    title: str | None
    replaces: int | None = None  # the item whose file moved here (a move, rename or upgrade on disk)
    replaces_file: str | None = None  # which of that item's files moved (None: its first)


def _normalised(path: str) -> str:
    return path.replace("\\", "/").rstrip("/")


def file_stem(path: str) -> str:
    return _normalised(path).rsplit("/", 1)[-1].rsplit(".", 1)[0]


class PlexLibrary:
    """Thread-safe in-memory state of one emulated Plex Media Server: every public method takes the library lock,
    so HTTP handler threads and test code can share one library."""

    def __init__(self, clock: Callable[[], int] | None = None) -> None:
        self.lock = threading.RLock()
        self.sections: dict[int, Section] = {}
        self.items: dict[int, EmuItem] = {}
        self.pending: list[PendingFile] = []
        self.tag_ids: dict[tuple[str, str], int] = {}
        self.collection_arts: dict[int, CollectionArt] = {}  # collection ratingKey → its images and locks
        # One photo per actor for the whole server, by name ignoring case (emulators.plex.edits)
        self.actor_photos: dict[str, str] = {}
        self.clock = clock or (lambda: int(time.time()))
        # PMS seems to lock an uploaded image (plex-api.md §3.6, unverified); tests that must see a client send
        # the lock itself switch this off.
        self.lock_on_upload = True
        # Called after each section listing page is answered, before the client reads it: a test's change then
        # lands between two pages of one listing, as a real server's scan or a user's edit may.
        self.after_listing_page: Callable[[], None] | None = None
        self._next_key = 100
        self._next_tag = 1000

    # -- identities --------------------------------------------------------------------------------

    def _key(self) -> int:
        self._next_key += 1
        return self._next_key

    def tag_id(self, tag_type: str, name: str) -> int:
        """A stable id per (type, name), like PMS's global tag table."""
        with self.lock:
            if (tag_type, name) not in self.tag_ids:
                self._next_tag += 1
                self.tag_ids[(tag_type, name)] = self._next_tag
            return self.tag_ids[(tag_type, name)]

    def tag_name(self, tag_type: str, tag_id: int) -> str | None:
        with self.lock:
            return next((name for (kind, name), number in self.tag_ids.items()
                         if kind == tag_type and number == tag_id), None)

    # -- sections and items ------------------------------------------------------------------------

    def add_section(self, title: str, locations: Iterable[str], type: str = "movie") -> int:
        with self.lock:
            key = len(self.sections) + 1
            self.sections[key] = Section(key, title, type, list(locations), f"emu-section-{key:04d}")
            return key

    def section(self, section_id: int) -> Section:
        with self.lock:
            if section_id not in self.sections:
                raise KeyError(f"no section {section_id}")
            return self.sections[section_id]

    def add_item(self, section_id: int, file: str, size: int | None, title: str, added_stamp: int | None = None,
                 **attrs: object) -> int:
        with self.lock:
            self.section(section_id)
            key = self._key()
            now_stamp = self.clock()
            added = added_stamp if added_stamp is not None else now_stamp
            item = EmuItem(key, section_id, file, size, added, now_stamp)
            item.fields["title"] = title
            item.fields.update({name: str(value) for name, value in attrs.items() if value is not None})
            self.items[key] = item
            return key

    def item(self, rating_key: int) -> EmuItem:
        with self.lock:
            return self.items[int(rating_key)]

    def remove_item(self, rating_key: int) -> None:
        """The user (or an empty-trash after the file went away) deleted the item: its key answers 404."""
        with self.lock:
            del self.items[int(rating_key)]

    def add_part(self, rating_key: int, file: str, size: int | None = None) -> None:
        """One more file for the item (a cd2 part scanned, or the user merged two items): its updatedAt moves."""
        with self.lock:
            item = self.item(rating_key)
            item.more_parts.append((file, size))
            self.touch(item)

    def remove_part(self, rating_key: int, file: str) -> None:
        """One of the item's files went away (split off, or deleted on disk and the trash emptied)."""
        with self.lock:
            item = self.item(rating_key)
            parts = [part for part in item.parts() if part[0] != file]
            if not parts:
                raise ValueError("an item keeps at least one file; delete the item instead")
            (item.file, item.size), item.more_parts = parts[0], parts[1:]
            self.touch(item)

    def rename_section(self, section_id: int, title: str) -> None:
        with self.lock:
            self.section(section_id).title = title

    def remove_section(self, section_id: int) -> None:
        with self.lock:
            self.section(section_id)
            del self.sections[section_id]
            for key in [key for key, item in self.items.items() if item.section_id == section_id]:
                del self.items[key]

    def items_in(self, section_id: int) -> list[EmuItem]:
        with self.lock:
            return sorted((item for item in self.items.values() if item.section_id == section_id),
                          key=lambda item: item.rating_key)

    def set_field(self, rating_key: int, name: str, value: str | None) -> None:
        with self.lock:
            item = self.item(rating_key)
            if name == "addedAt":
                item.added_stamp = int(value or 0)
            elif value in (None, ""):
                item.fields.pop(name, None)
            else:
                item.fields[name] = str(value)
            self.touch(item)

    def rate(self, rating_key: int, rating: str) -> None:
        """``PUT /:/rate``: the token owner's star rating (``-1`` clears it) and ``lastRatedAt`` = now, both on
        list and detail views (plexapi's real-server test ``edit_rating`` reads ``lastRatedAt`` after ``rate()``;
        a live capture of ``/library/sections/1/all`` carries ``userRating`` and ``lastRatedAt`` on list items,
        LukeHagar/plex-api-spec 27f81a04^ tests/paths/library/[sectionKey]/get-library-all.spec.ts). A rating
        is the owner's per-user setting, not the item's metadata: ``updatedAt`` stays (that capture's
        ``updatedAt`` is independent of ``lastRatedAt``; unverified whether PMS ever moves it), and a clear
        stamps ``lastRatedAt`` too (unverified)."""
        with self.lock:
            item = self.item(rating_key)
            if rating == "-1":
                item.fields.pop("userRating", None)
            else:
                item.fields["userRating"] = rating
            item.fields["lastRatedAt"] = str(self.clock())

    def set_tags(self, rating_key: int, tag_type: str, names: Iterable[str]) -> None:
        with self.lock:
            item = self.item(rating_key)
            item.tags[tag_type] = list(dict.fromkeys(names))
            self.register_tags(item, tag_type)
            self.touch(item)

    def set_actor_photo(self, name: str, url: str | None) -> None:
        """An actor's photo, on every item that has the actor (a user picking one in Plex; None removes it)."""
        with self.lock:
            if url:
                self.actor_photos[name.casefold()] = url
            else:
                self.actor_photos.pop(name.casefold(), None)

    def actor_photo(self, name: str) -> str | None:
        with self.lock:
            return self.actor_photos.get(name.casefold())

    def register_tags(self, item: EmuItem, tag_type: str) -> None:
        """Give new tags their ids; a collection tag creates the section's collection on first use."""
        for name in item.tags.get(tag_type, []):
            self.tag_id(tag_type, name)
            if tag_type == "collection":
                collections = self.sections[item.section_id].collections
                if name not in collections:
                    collections[name] = self._key()

    def touch(self, item: EmuItem | CollectionArt) -> None:
        item.updated_stamp = max(item.updated_stamp + 1, self.clock())

    # -- collections -------------------------------------------------------------------------------

    def collection_members(self, section_id: int, title: str) -> list[EmuItem]:
        with self.lock:
            return [item for item in self.items_in(section_id) if title in item.tags.get("collection", [])]

    def collections_in(self, section_id: int) -> list[tuple[int, str, int]]:
        """(ratingKey, title, child count) of the section's collections; PMS drops empty ones."""
        with self.lock:
            listed = []
            for title, key in self.section(section_id).collections.items():
                count = len(self.collection_members(section_id, title))
                if count:
                    listed.append((key, title, count))
            return listed

    def find_collection(self, rating_key: int) -> tuple[int, str] | None:
        """(section id, title) of the collection with this ratingKey."""
        with self.lock:
            for section in self.sections.values():
                for title, key in section.collections.items():
                    if key == rating_key:
                        return section.key, title
            return None

    def collection_art(self, rating_key: int) -> CollectionArt | None:
        """The images and locks of the collection with this ratingKey (None: no such collection)."""
        with self.lock:
            if self.find_collection(rating_key) is None:
                return None
            if rating_key not in self.collection_arts:
                self.collection_arts[rating_key] = CollectionArt(rating_key, self.clock())
            return self.collection_arts[rating_key]

    # -- scans -------------------------------------------------------------------------------------

    def add_pending_file(self, section_id: int, file: str, size: int | None, title: str | None) -> None:
        with self.lock:
            self.section(section_id)
            self.pending.append(PendingFile(section_id, file, size, title))

    def move_file(self, rating_key: int, new_file: str, size: int | None = None, old_file: str | None = None) -> None:
        """The item's file (``old_file``, else its first) was moved, renamed or upgraded on disk: the next scan
        covering ``new_file`` finds it."""
        with self.lock:
            item = self.item(rating_key)
            old = dict(item.parts()).get(old_file, item.size) if old_file is not None else item.size
            self.pending.append(PendingFile(item.section_id, new_file, old if size is None else size, None,
                                            replaces=rating_key, replaces_file=old_file))

    def scan(self, section_id: int, path: str | None) -> list[int]:
        """Pending files under ``path`` (or anywhere in the section) become items, as a real scan would. A moved
        file stays with its item: same ratingKey and addedAt, a new Part file and a later updatedAt (plex-api.md,
        addendum)."""
        with self.lock:
            found, keep = [], []
            folder = _normalised(path) if path else None
            for pending in self.pending:
                file = _normalised(pending.file)
                inside = folder is None or file == folder or file.startswith(folder + "/")
                if pending.section_id != section_id or not inside:
                    keep.append(pending)
                elif pending.replaces in self.items:
                    item = self.items[pending.replaces]
                    parts = item.parts()
                    at = next((n for n, part in enumerate(parts) if part[0] == pending.replaces_file), 0)
                    parts[at] = (pending.file, pending.size)
                    (item.file, item.size), item.more_parts = parts[0], parts[1:]
                    self.touch(item)
                    found.append(item.rating_key)
                else:
                    found.append(self.add_item(section_id, pending.file, pending.size,
                                               pending.title or file_stem(pending.file)))
            self.pending = keep
            return found

    # -- images ------------------------------------------------------------------------------------

    def add_image(self, item: EmuItem | CollectionArt, kind: str, data: bytes | None, url: str | None) -> str:
        """Store an uploaded image (body → ``upload://<folder>/<sha1>``, or the given URL), select it and, if
        ``lock_on_upload``, lock it."""
        with self.lock:
            folder, _ = IMAGE_KINDS[kind]
            reference = f"upload://{folder}/{hashlib.sha1(data).hexdigest()}" if data else (url or "")
            images = item.posters if kind == "poster" else item.arts
            if reference not in images:
                images.append(reference)
            self.select_image(item, kind, reference)
            if self.lock_on_upload:
                item.locks.add(IMAGE_KINDS[kind][1])
            return reference

    def select_image(self, item: EmuItem | CollectionArt, kind: str, reference: str | None) -> None:
        with self.lock:
            attribute = IMAGE_KINDS[kind][1]
            images = item.posters if kind == "poster" else item.arts
            if reference and reference not in images:
                images.append(reference)
            if kind == "poster":
                item.selected_poster = reference
            else:
                item.selected_art = reference
            self.touch(item)
            if reference:
                item.fields[attribute] = f"/library/metadata/{item.rating_key}/{attribute}/{item.updated_stamp}"
            else:
                item.fields.pop(attribute, None)


def list_view_tags(item: EmuItem, truncate: bool) -> dict[str, list[str]]:
    """List/search views carry only a few tags per type, like real PMS."""
    if not truncate:
        return item.tags
    return {tag_type: names[: LIST_VIEW_LIMITS.get(tag_type, len(names))] for tag_type, names in item.tags.items()}
