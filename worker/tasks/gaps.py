"""The gap report: Plex items no Stash scene has (after the path map), and Stash scenes with no Plex item, each
with its reason.

Cost: the store's path index, refreshed incrementally (a few listing pages, never a request per item), and one
paged read of Stash's ids, titles and paths; only Plex-only items' titles are asked for, cached until they change.
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any, Callable, Container, Iterator, Sequence

from plex.errors import PlexItemGone, PlexRejected
from plex.matcher import PathMapper, fold, is_under, is_windows_path, path_key
from sync_queue.mirror.gaps import KV_LAST_GAPS, GapQueries, IndexedFile, SceneRow
from validation.settings.names import mention
from worker.tasks.gap_words import reason_counts_text
from worker.sync.index_refresh import refresh_index
from worker.stash.reader import StashReader

STASH_PER_PAGE = 5000  # id, title and paths only: a small answer per scene
TITLES_PER_REQUEST = 200  # ratingKeys per GET /library/metadata/1,2,3 (a request line far below 8 KiB)
MAX_TITLE_REQUESTS = 50  # per run: 10,000 titles; beyond that the file names the item (the cache fills over runs)
KEPT_FOR_PAGE = 500

SCENE_FILES = """
query PlexSyncSceneFiles($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id title files { path } } }
}
"""
GAP_DOCUMENTS = {"SCENE_FILES": SCENE_FILES}


@dataclass
class PlexOnly:
    rating_key: int
    library: str
    file: str
    title: str | None


@dataclass
class StashOnly:
    scene_id: int
    title: str
    file: str | None
    plex_path: str | None  # the file as Plex would see it (after the path map)
    reason_code: str  # waiting_for_plex | ambiguous | failed | outside_libraries | not_found | no_file
    reason: str


@dataclass
class _Scene:
    scene_id: int
    title: str
    files: list[str]
    plex_paths: list[str]
    keys: list[str]


# -- Stash's side --------------------------------------------------------------------------------

class FolderKeys:
    """``mapper.to_plex(path)`` and its ``path_key`` for every file of a library, mapping each folder once: the
    rules act on whole leading segments, so a folder's files map as the folder does, and 100,000 scenes sit in
    a few thousand folders. Files directly under a root are mapped whole."""

    def __init__(self, mapper: PathMapper) -> None:
        self.mapper = mapper
        self.folders: dict[str, tuple[str, str, bool, str]] = {}  # folder → (Plex's, its key, Windows, separator)

    def mapped(self, path: str) -> tuple[str, str]:
        """(the path Plex would report, the key paths are compared by)."""
        cut = max(path.rfind("/"), path.rfind("\\"))
        if cut <= 0 or cut == len(path) - 1:
            plex_path = self.mapper.to_plex(path)
            return plex_path, path_key(plex_path)
        folder, name = path[:cut], path[cut + 1:]
        known = self.folders.get(folder)
        if known is None:
            plex_folder = self.mapper.to_plex(folder)
            separator = path[cut] if plex_folder == folder else "\\" if "\\" in plex_folder else "/"
            known = self.folders[folder] = (plex_folder, path_key(plex_folder).rstrip("/"),
                                            is_windows_path(plex_folder), separator)
        plex_folder, key, windows, separator = known
        normal = unicodedata.normalize("NFC", name)
        return plex_folder + separator + name, f"{key}/{fold(normal) if windows else normal}"


def stash_scenes(stash: StashReader, keys: FolderKeys) -> Iterator[_Scene]:
    """Every Stash scene with its files as Plex would see them, ``STASH_PER_PAGE`` per request, the next page
    asked for while this one is compared."""
    for scene in stash.pages(SCENE_FILES, None, STASH_PER_PAGE, "id", "ASC", read_ahead=True):
        files = [str(item["path"]) for item in scene["files"] or [] if item.get("path")]
        mapped = [keys.mapped(file) for file in files]
        yield _Scene(int(scene["id"]), str(scene["title"] or ""), files, [plex for plex, _ in mapped],
                     [key for _, key in mapped])


# -- the two lists ---------------------------------------------------------------------------------

def stash_reason(scene: _Scene, row: SceneRow | None, dead: dict[int, str], listed: Container[int],
                 folders: Sequence[str]) -> tuple[str, str]:
    """Why this scene has no Plex item, in the words the queue's own states use."""
    if not scene.files:
        return "no_file", "the scene has no file"
    if scene.scene_id in dead:
        return "failed", dead[scene.scene_id]
    if row is not None and row.error_class == "AmbiguousMatch" and row.rating_key is None:
        return "ambiguous", row.error or "several Plex items could be this file"
    if folders and not any(is_under(path, folder) for path in scene.plex_paths for folder in folders):
        return "outside_libraries", (f"{scene.plex_paths[0]} is outside the synced libraries' folders "
                                     f"({', '.join(folders)}): a folder Plex does not have, or check {mention('path_map')}")
    if row is not None and row.pending and row.lane == "waiting_for_plex":
        return "waiting_for_plex", row.error or "Plex has not listed its file yet"
    if row is not None and row.rating_key is not None and row.rating_key not in listed:
        return "not_found", f"its Plex item (ratingKey {row.rating_key}) is no longer listed; no Plex item has its file"
    never = " (PlexSync has not synced this scene yet)" if row is None else ""
    return "not_found", f"no Plex item has {scene.plex_paths[0]}{never}"


def plex_titles(rt: Any, queries: GapQueries, items: dict[int, int]) -> dict[int, str]:
    """ratingKey → title for ``items`` (ratingKey → updatedAt): from the cache, else read from Plex in batches."""
    titles = queries.cached_titles(items.items())
    missing = sorted(key for key in items if key not in titles)
    for start in range(0, min(len(missing), TITLES_PER_REQUEST * MAX_TITLE_REQUESTS), TITLES_PER_REQUEST):
        chunk = missing[start:start + TITLES_PER_REQUEST]
        try:
            root = rt.plex.query("/library/metadata/" + ",".join(map(str, chunk)), container=True)
        except (PlexItemGone, PlexRejected):
            continue  # an item deleted since the index was refreshed: these keep their file names
        read = [(int(video.attrib["ratingKey"]), items[int(video.attrib["ratingKey"])], video.attrib.get("title", ""))
                for video in root if video.tag == "Video" and int(video.attrib.get("ratingKey", 0)) in items]
        queries.remember_titles(read)
        titles.update((key, title) for key, _, title in read)
    queries.forget_titles_except(set(items))
    return titles


def find_gaps(rt: Any, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """The whole report (every gap), see the module's docstring. Held in memory: the index's item numbers and
    the scenes' links, the files of the few unlinked items, and the gaps; Stash's pages stream through."""
    started_mono_s, requests_before = time.monotonic(), rt.plex_requests()
    sections = {section.id: section for section in rt.sections}
    refresh_index(rt.store, rt.plex, list(sections.values()))
    queries = GapQueries(rt.store)
    listed, links = queries.listed_items(sections), queries.scene_links()
    linked = {key for key in links.values() if key is not None}
    unlinked = queries.files_of((key for key in listed if key not in linked), sections)
    owners: dict[str, set[int]] = defaultdict(set)  # an unlinked item's file → the item(s): had, if Stash has it
    for part in unlinked:
        owners[part.path_key].add(part.rating_key)
    had: set[int] = set()
    stash_only: list[StashOnly] = []
    scanned, dead = 0, queries.dead_letter_reasons()
    folders = [folder for section in sections.values() for folder in section.locations]
    for scene in stash_scenes(rt.stash, FolderKeys(PathMapper(rt.config.path_rules))):
        scanned += 1
        for key in scene.keys:
            had.update(owners.get(key, ()))
        if links.get(scene.scene_id) in listed or any(queries.is_indexed(key, sections) for key in scene.keys):
            continue  # linked, or Plex lists its file (the next sync links it)
        code, reason = stash_reason(scene, queries.scene_row(scene.scene_id), dead, listed, folders)
        stash_only.append(StashOnly(scene.scene_id, scene.title, scene.files[0] if scene.files else None,
                                    scene.plex_paths[0] if scene.plex_paths else None, code, reason))
    plex_only = _plex_only(rt, queries, sections, [part for part in unlinked if part.rating_key not in had])
    if progress is not None:
        progress(1.0)
    return report(rt, plex_only, stash_only, scanned, len(listed), time.monotonic() - started_mono_s,
                  rt.plex_requests() - requests_before)


def _plex_only(rt: Any, queries: GapQueries, sections: dict[int, Any], parts: list[IndexedFile]) -> list[PlexOnly]:
    """One entry per item (its first file), titled from Plex."""
    first: dict[int, IndexedFile] = {}
    updated_stamps: dict[int, int] = {}  # ratingKey → its newest updatedAt
    for part in parts:
        first.setdefault(part.rating_key, part)
        updated_stamps[part.rating_key] = max(updated_stamps.get(part.rating_key, 0), part.updated_stamp)
    titles = plex_titles(rt, queries, updated_stamps)
    return [PlexOnly(key, sections[part.section_id].title, part.file, titles.get(key))
            for key, part in sorted(first.items())]


def report(rt: Any, plex_only: list[PlexOnly], stash_only: list[StashOnly], scanned: int, indexed: int,
           elapsed_s: float, plex_requests: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "generated_at": time.time(),
        "libraries": [section.title for section in rt.sections],
        "stash_scenes": scanned,
        "plex_items": indexed,
        "plex_only_count": len(plex_only),
        "stash_only_count": len(stash_only),
        "stash_only_by_reason": dict(Counter(item.reason_code for item in stash_only)),
        "plex_only": [asdict(item) for item in plex_only],
        "stash_only": [asdict(item) for item in stash_only],
        "seconds": round(elapsed_s, 2),
        "plex_requests": plex_requests,
    }
    result["message"] = (f"Gaps: {len(plex_only):,} Plex item{'' if len(plex_only) == 1 else 's'} no Stash scene "
                         f"has, {len(stash_only):,} Stash scene{'' if len(stash_only) == 1 else 's'} with no Plex "
                         f"item{reason_counts_text(result['stash_only_by_reason'])}")
    return result


def remember_gaps(store: Any, result: dict[str, Any]) -> None:
    """The newest report for PlexSync's page: the counts, and the first entries of each side."""
    kept = {key: value for key, value in result.items() if key not in ("plex_only", "stash_only")}
    kept["plex_only"] = result["plex_only"][:KEPT_FOR_PAGE]
    kept["stash_only"] = result["stash_only"][:KEPT_FOR_PAGE]
    store.set_json(KV_LAST_GAPS, kept)


def run_gaps(ctx: Any) -> dict[str, Any]:
    """The ``gaps`` task and command: reads only (Plex's index refresh is a cache of what Plex lists), so it
    runs while syncing is paused too."""
    from worker.tasks.sync_tasks import TaskFailed, open_runtime

    rt = open_runtime(ctx)
    try:
        if rt.stash is None:
            raise TaskFailed("The gap report needs Stash: run it from Stash, or pass --stash-url (PLEXSYNC_STASH_URL)")
        result = find_gaps(rt, ctx.progress)
        remember_gaps(rt.store, result)
    finally:
        rt.close()
    return result

