"""Which Plex item is this Stash scene? Stored link → mapped full path → unique basename with equal size.

Paths are compared as Plex reports them, after the user's ``path_map`` prefix rules (Docker mounts differ),
normalised: ``\\\\?\\`` long-path prefixes stripped, one separator style, duplicate separators collapsed, NFC,
and case folded only for Windows-style paths (Plex on Linux is case-sensitive: ``A.mp4`` and ``a.mp4`` are
different files there). File names alone (the name-and-size fallback) follow one rule whoever wrote them: case
folded and NFC on both sides, so ``D:\\Videos\\My Scene.mp4`` from a Windows Stash is ``My Scene.mp4`` on a Linux
Plex, and an NFD name from a macOS share is the NFC name Plex stored.

When several Plex items fit: strict matching refuses (``AmbiguousMatch`` names them). Non-strict matching
takes the candidate whose path shares the most trailing path segments with the Stash path, and only when that
candidate is the single best; a tie is still ``AmbiguousMatch`` (never a guess by list order).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

from plex.errors import AmbiguousMatch, ItemNotInPlex
from plex.library_index import IndexedPart

_DRIVE = re.compile(r"^[A-Za-z]:(?:[\\/]|$)")
_SEPARATORS = re.compile(r"[\\/]+")


def _strip_long_prefix(path: str) -> str:
    r"""``\\?\C:\x`` → ``C:\x``; ``\\?\UNC\srv\share`` → ``\\srv\share`` (also the ``//?/`` spelling)."""
    for unc_prefix in ("\\\\?\\UNC\\", "//?/UNC/"):
        if path[: len(unc_prefix)].upper() == unc_prefix.upper():
            return "\\\\" + path[len(unc_prefix):]
    for prefix in ("\\\\?\\", "//?/"):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def fold(text: str) -> str:
    """The caseless form two names are compared in (Unicode canonical caseless matching: NFD, case fold, then
    NFC, so neither a decomposed accent nor a case fold that decomposes leaves two spellings of one name)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def is_windows_path(path: str) -> bool:
    """A drive letter, a UNC share or a long-path prefix: Windows rules (case-insensitive) apply."""
    text = _strip_long_prefix(path)
    return bool(_DRIVE.match(text)) or text.startswith("\\\\") or path != text


def path_key(path: str) -> str:
    """The form two paths are compared in."""
    windows = is_windows_path(path)
    text = unicodedata.normalize("NFC", _strip_long_prefix(path))
    unc = windows and text.startswith(("\\\\", "//"))
    text = _SEPARATORS.sub("/", text)
    if unc:
        text = "/" + text  # keep UNC (//server/share) apart from a rooted POSIX path (/server/share)
    if len(text) > 1:
        text = text.rstrip("/") or "/"
    return fold(text) if windows else text


def basename_key(path: str) -> str:
    """The last path segment in the one form every file name is compared in, whichever system wrote it."""
    return fold(path_key(path).rsplit("/", 1)[-1])


def _segments(path: str) -> list[str]:
    return [segment for segment in _SEPARATORS.split(_strip_long_prefix(path)) if segment]


class PathMapper:
    """Stash path → the path Plex reports, by the longest matching prefix rule (on whole segments)."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        cleaned = [(stash, plex) for stash, plex in rules if stash and plex]
        # Longest Stash prefix first; among equals, the order the user wrote them in (sort is stable).
        self.rules = sorted(cleaned, key=lambda rule: len(path_key(rule[0])), reverse=True)

    def to_plex(self, path: str) -> str:
        for stash_prefix, plex_prefix in self.rules:
            rest = _remainder(path, stash_prefix)
            if rest is not None:
                return _join(plex_prefix, rest)
        return path


def _plex_separator(plex_prefix: str) -> str:
    return "\\" if "\\" in plex_prefix or _DRIVE.match(plex_prefix) else "/"


def _join(plex_prefix: str, rest: list[str]) -> str:
    separator = _plex_separator(plex_prefix)
    head = plex_prefix.rstrip("\\/")
    if separator == "\\":
        head = head.replace("/", "\\")
    if not head:  # the rule maps onto the root "/"
        return separator + separator.join(rest)
    if _DRIVE.match(plex_prefix) and len(head) == 2:  # "D:" + rest → "D:\rest"
        head += separator
        return head + separator.join(rest)
    return separator.join([head, *rest]) if rest else head


def _remainder(path: str, prefix: str) -> list[str] | None:
    """The segments that follow ``prefix`` in ``path`` when it matches on whole segments, else None."""
    path_norm, prefix_norm = path_key(path), path_key(prefix)
    if path_norm != prefix_norm and not path_norm.startswith(prefix_norm.rstrip("/") + "/"):
        return None
    return _segments(path)[len(_segments(prefix)):]


def is_under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it, on whole segments (``/data/stash2`` is not inside ``/data/stash``)."""
    return _remainder(path, folder) is not None


class IndexLookup(Protocol):
    """The path index (the store's ``plex_index``), keyed by ``path_key`` / ``basename_key``. Rows need
    ``rating_key``, ``section_id``, ``file`` and ``size`` like ``IndexedPart``."""

    def parts_by_path_key(self, key: str) -> Sequence[IndexedPart]: ...

    def parts_by_basename_key(self, key: str) -> Sequence[IndexedPart]: ...


@dataclass(frozen=True)
class MatchResult:
    rating_key: int
    section_id: int
    method: str  # link | path | basename_size
    file: str | None


class Matcher:
    """Finds the Plex item for a scene's files in the local index; makes no request."""

    def __init__(self, lookup: IndexLookup, mapper: PathMapper, *, strict: bool = True) -> None:
        self.lookup = lookup
        self.mapper = mapper
        self.strict = strict

    def match(self, files: Sequence[Mapping[str, Any]], link: tuple[int, int] | None,
              sections: set[int] | None = None, locations: Sequence[str] = ()) -> MatchResult:
        """``files``: the scene's files (``path``, ``size``) in Stash's order, primary first. ``sections``:
        only items in these libraries count (None: any). ``locations``: the libraries' root folders; a file
        whose mapped path lies inside one is matched by full path only, since Plex would list it right there
        (a same-named, same-sized copy elsewhere is another file, not this one)."""
        if link is not None:  # the caller checks the stored link against the index before passing it
            return MatchResult(int(link[0]), int(link[1]), "link", None)
        paths = [str(f["path"]) for f in files if f.get("path")]
        for path in paths:  # full path first: exact, and the only way duplicates stay apart
            found = self._within(self.lookup.parts_by_path_key(path_key(self.mapper.to_plex(path))), sections)
            result = self._decide(found, "path", path)
            if result is not None:
                return result
        for path, size in self._named_files(files, locations):
            candidates = self._within(self.lookup.parts_by_basename_key(basename_key(path)), sections)
            result = self._decide([part for part in candidates if part.size == size], "basename_size", path)
            if result is not None:
                return result
        raise ItemNotInPlex([self.mapper.to_plex(path) for path in paths])

    def holds(self, parts: Sequence[Any], files: Sequence[Mapping[str, Any]], locations: Sequence[str] = ()) -> bool:
        """Whether an item with these media parts (``file``, ``size``, as a read of it shows them) holds one of
        the scene's files by the rules :meth:`match` finds it with: a mapped path equal to a part's, or, for a
        file outside every library folder, a part with its file name and size."""
        mapped = {path_key(self.mapper.to_plex(str(f["path"]))) for f in files if f.get("path")}
        if any(path_key(part.file) in mapped for part in parts):
            return True
        return any(basename_key(part.file) == basename_key(path) and part.size == size
                   for path, size in self._named_files(files, locations) for part in parts)

    def _named_files(self, files: Sequence[Mapping[str, Any]], locations: Sequence[str]) -> list[tuple[str, int]]:
        """(path, size) of the files a name and size may find: those with a size (a basename alone is never
        trusted) that lie outside every library folder (Plex would list those right there, by full path)."""
        return [(str(f["path"]), int(f["size"])) for f in files if f.get("path") and f.get("size") is not None
                and not any(is_under(self.mapper.to_plex(str(f["path"])), folder) for folder in locations)]

    @staticmethod
    def _within(parts: Sequence[Any], sections: set[int] | None) -> list[Any]:
        return [part for part in parts if sections is None or part.section_id in sections]

    def _decide(self, parts: list[Any], method: str, stash_path: str) -> MatchResult | None:
        by_key: dict[int, Any] = {}
        for part in parts:
            by_key.setdefault(part.rating_key, part)
        if not by_key:
            return None
        if len(by_key) == 1:
            (part,) = by_key.values()
            return MatchResult(part.rating_key, part.section_id, method, part.file)
        candidates = [(part.rating_key, part.file) for part in by_key.values()]
        if self.strict:
            raise AmbiguousMatch(candidates)
        scored = sorted(by_key.values(), key=lambda part: common_suffix(part.file, stash_path), reverse=True)
        if common_suffix(scored[0].file, stash_path) == common_suffix(scored[1].file, stash_path):
            raise AmbiguousMatch(candidates)
        best = scored[0]
        return MatchResult(best.rating_key, best.section_id, method, best.file)


def common_suffix(plex_file: str, stash_path: str) -> int:
    """How many trailing path segments two paths share (case-insensitively: one side may be Windows)."""
    left = fold(path_key(plex_file)).split("/")[::-1]
    right = fold(path_key(stash_path)).split("/")[::-1]
    count = 0
    for a, b in zip(left, right):
        if a != b:
            break
        count += 1
    return count
