"""The read that guards every write through a scene's link: the item is read, and the write goes only if it
holds the scene's file.

**The write-safety rule.** No scene is written to a Plex item unless a read of that item made in the same batch
shows one of the scene's files among its parts. The index can lag behind Plex (a move or a re-added file not
listed yet), and a write on its word alone would put one scene's title, cast and poster onto another scene's item.
``SyncEngine`` keeps it: :func:`read_items` before a batch's pushes, :func:`wrong_item` in each push before its
write (one GET per batch of 50, also what a first push diffs against; one GET and one PUT for a single edit).
Whatever else goes through a link, either way, keeps it with :class:`LinkCheck`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

from plex.errors import PlexItemGone, PlexSyncError
from plex.library_index import ListedItem, listed_item
from plex.matcher import Matcher, PathMapper
from validation.stash_log import get_logger
from worker.sync.index_refresh import index_rows

log = get_logger("engine")

READ_BATCH = 50  # items per detail GET, as a sync batch reads them


@dataclass(frozen=True)
class WrongItem:
    """A push's result when its item's read shows none of the scene's files (or shows the item in another library,
    ``found_in``): nothing was written. ``held``: the item as that read showed it."""

    rating_key: int
    section_id: int
    found_in: int
    held: ListedItem


def read_items(plex: Any, rating_keys: Sequence[int]) -> dict[int, Any]:
    """The items' detail views in one GET (``/library/metadata/1,2,…``), by ratingKey. Anything wrong with that
    read (an item deleted meanwhile answers 404) leaves each push to read its own item."""
    if not rating_keys:
        return {}
    try:
        return plex.fetch_details(list(rating_keys))
    except PlexSyncError as exc:
        log.debug("Batched detail read failed (%s); each scene reads its own item", exc)
        return {}


def wrong_item(matcher: Matcher, item: Any, rating_key: int, section_id: int, files: Sequence[Any],
               locations: Sequence[str]) -> WrongItem | None:
    """None when ``item`` (a detail view just read) is in the library the match named and holds one of the
    scene's ``files`` by the matcher's own rules; else the WrongItem to act on instead of writing."""
    found_in = getattr(item, "librarySectionID", None)
    found_in = int(found_in) if found_in not in (None, "") else int(section_id)
    held = listed_item(item._data, found_in)  # the XML plexapi read: every Media/Part, as a listing shows them
    if found_in == int(section_id) and matcher.holds(held.parts, files, locations):
        return None
    return WrongItem(int(rating_key), int(section_id), found_in, held)


def take_the_read(store: Any, wrong: WrongItem) -> None:
    """The index takes a wrong item as its read showed it (no row in this library if it now sits in another)."""
    rows = index_rows(wrong.held.parts) if wrong.found_in == wrong.section_id else []
    store.replace_index_items(wrong.section_id, [(wrong.rating_key, rows)])


Link = tuple[int, int]  # (scene id, ratingKey)
GONE = "gone"  # a link check's verdict when Plex no longer has the item


class LinkCheck:
    """The write-safety rule for what goes through a link outside a sync batch: a play, resume point or rating
    read from a Plex item is written into a scene, or a Stash play marks the item played, only when a read of the
    item in this run shows one of the scene's files. A link that fails is forgotten and its scene queued, so the
    next sync matches it again; nothing is written through it. ``dry_run`` (a preview): links are judged the
    same way and left as they are."""

    def __init__(self, rt: Any, *, dry_run: bool = False) -> None:
        self.rt, self.dry_run = rt, dry_run
        self.checked: dict[Link, Any] = {}  # the item's detail view; None: write nothing; GONE: no item

    # read on the first check only: most runs have nothing to write through a link
    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.rt.store, PathMapper(self.rt.config.path_rules), strict=self.rt.config.strict_matching)

    @cached_property
    def locations(self) -> list[str]:
        return [folder for section in self.rt.sections for folder in section.locations]

    @cached_property
    def links(self) -> dict[int, tuple[int, int]]:
        """Scene id → (ratingKey, section id) of its link as the store has it now."""
        return {int(row["scene_id"]): (int(row["rating_key"]), int(row["section_id"]))
                for row in self.rt.store.linked_scenes()}

    def holding(self, links: Iterable[Link], scenes: Mapping[int, Mapping[str, Any]] | None = None) -> dict[Link, Any]:
        """The links (of those given) whose item holds the scene's file now, with the item as read. ``scenes``:
        scenes already read with their ``files``; the others are read from Stash (one request per 200)."""
        wanted = {(int(scene_id), int(rating_key)) for scene_id, rating_key in links}
        todo = sorted(wanted - self.checked.keys())
        if todo:
            files = {int(scene_id): scene.get("files") or [] for scene_id, scene in (scenes or {}).items()}
            unread = {scene_id for scene_id, _ in todo} - files.keys()
            if unread:
                files.update({scene_id: scene.get("files") or []
                              for scene_id, scene in self.rt.stash.scenes_by_ids(sorted(unread)).items()})
            items = self._read(sorted({rating_key for _, rating_key in todo}))
            for link in todo:
                self.checked[link] = self._verdict(link, items.get(link[1]), files.get(link[0]))
        return {link: self.checked[link] for link in wanted if self.checked[link] not in (None, GONE)}

    def playable(self, links: Iterable[Link]) -> set[Link]:
        """The links a play made on the item may be written through: the item holds the scene's file, or Plex no
        longer has it (the play was made before it went, and no other scene can be on a gone item)."""
        wanted = set(links)
        return set(self.holding(wanted)) | {link for link in wanted if self.checked.get(link) is GONE}

    def _verdict(self, link: Link, item: Any, files: Sequence[Any] | None) -> Any:
        scene_id, rating_key = link
        if files is None:
            return None  # deleted in Stash: nothing to write into, nor a link to correct
        current = self.links.get(scene_id)
        section_id = current[1] if current and current[0] == rating_key else getattr(item, "librarySectionID", 0)
        wrong = None if item is None else wrong_item(self.matcher, item, rating_key, int(section_id or 0), files,
                                                     self.locations)
        if item is not None and wrong is None:
            return item
        if current and current[0] == rating_key and not self.dry_run:
            if wrong is not None:
                take_the_read(self.rt.store, wrong)
            del self.links[scene_id]
            self.rt.store.forget_link(scene_id)
            self.rt.store.queue_scenes([scene_id])
            log.info("Scene %s: Plex item %s %s; nothing goes through that link, and the scene is matched again",
                     scene_id, rating_key, "is gone" if item is None else "no longer holds this scene's file")
        return GONE if item is None else None

    def _read(self, rating_keys: list[int]) -> dict[int, Any]:
        """Detail views by ratingKey, 50 per GET; when a batch fails (one item deleted answers 404 for all), each
        item is read alone. An item Plex no longer has is absent."""
        found: dict[int, Any] = {}
        for start in range(0, len(rating_keys), READ_BATCH):
            chunk = rating_keys[start:start + READ_BATCH]
            batch = read_items(self.rt.plex, chunk)
            if not batch:
                for rating_key in chunk:
                    try:
                        batch.update(self.rt.plex.fetch_details([rating_key]))
                    except PlexItemGone:
                        pass
            found.update(batch)
        return found
