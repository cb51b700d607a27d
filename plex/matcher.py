"""Which Plex item is this Stash scene? Stored link → mapped full path → unique basename and size.

Paths are compared as Plex reports them, after the user's ``path_map`` prefix rules (Docker mounts differ),
normalised: ``\\\\?\\`` long-path prefixes stripped, one separator style, NFC, and case folded only for
Windows-style paths (Plex on Linux is case-sensitive: ``A.mp4`` and ``a.mp4`` are different files).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

from plex.errors import AmbiguousMatch, ItemNotInPlex

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|//)")
_LONG_PREFIX = re.compile(r"^(?:\\\\\?\\UNC\\|\\\\\?\\|//\?/)")
_SEPARATORS = re.compile(r"[\\/]+")


def is_windows_path(path: str) -> bool:
    return bool(_WINDOWS_PATH.match(path)) or path.startswith("\\\\?\\")


def _strip_long_prefix(path: str) -> str:
    if path.startswith("\\\\?\\UNC\\"):
        return "\\\\" + path[8:]
    return _LONG_PREFIX.sub("", path)


def path_key(path: str) -> str:
    """The form two paths are compared in."""
    windows = is_windows_path(path)
    text = unicodedata.normalize("NFC", _strip_long_prefix(path))
    unc = text.startswith(("\\\\", "//"))
    text = _SEPARATORS.sub("/", text)
    if unc:
        text = "/" + text if not text.startswith("//") else text
    text = text.rstrip("/") if len(text) > 1 else text
    return text.casefold() if windows else text


def basename_key(path: str) -> str:
    key = path_key(path)
    return key.rsplit("/", 1)[-1]


class PathMapper:
    """Stash path → the path Plex reports, by the first (longest) matching prefix rule."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        self.rules = sorted(((s, p) for s, p in rules), key=lambda rule: len(rule[0]), reverse=True)

    def to_plex(self, path: str) -> str:
        for stash_prefix, plex_prefix in self.rules:
            rest = _remainder(path, stash_prefix)
            if rest is not None:
                separator = "\\" if is_windows_path(plex_prefix) and "/" not in plex_prefix else "/"
                parts = [segment for segment in _SEPARATORS.split(rest) if segment]
                head = plex_prefix.rstrip("\\/")
                return separator.join([head, *parts]) if parts else head
        return path


def _remainder(path: str, prefix: str) -> str | None:
    """What follows ``prefix`` in ``path`` when it matches on whole path segments, else None."""
    path_norm, prefix_norm = path_key(path), path_key(prefix)
    if path_norm == prefix_norm:
        return ""
    if not path_norm.startswith(prefix_norm.rstrip("/") + "/"):
        return None
    segments = len([s for s in _SEPARATORS.split(_strip_long_prefix(prefix)) if s])
    original = [s for s in _SEPARATORS.split(_strip_long_prefix(path)) if s]
    return "/".join(original[segments:])


class IndexLookup(Protocol):
    def parts_by_path_key(self, key: str) -> Sequence[Any]: ...

    def parts_by_basename_key(self, key: str) -> Sequence[Any]: ...


@dataclass(frozen=True)
class MatchResult:
    rating_key: int
    section_id: int
    method: str  # link | path | basename_size
    file: str | None


class Matcher:
    def __init__(self, lookup: IndexLookup, mapper: PathMapper, *, strict: bool = True) -> None:
        self.lookup = lookup
        self.mapper = mapper
        self.strict = strict

    def match(self, files: Sequence[Mapping[str, Any]], link: tuple[int, int] | None,
              sections: set[int] | None = None) -> MatchResult:
        if link is not None:
            return MatchResult(link[0], link[1], "link", None)
        stash_paths = [str(f.get("path")) for f in files if f.get("path")]
        for path in stash_paths:  # full path first: exact, and the only way duplicates stay apart
            found = self._in_sections(self.lookup.parts_by_path_key(path_key(self.mapper.to_plex(path))), sections)
            result = self._decide(found, "path", path)
            if result is not None:
                return result
        for stash_file in files:
            path, size = stash_file.get("path"), stash_file.get("size")
            if not path or size is None:
                continue
            found = [part for part in self._in_sections(self.lookup.parts_by_basename_key(basename_key(str(path))),
                                                        sections) if part.size == int(size)]
            result = self._decide(found, "basename_size", str(path))
            if result is not None:
                return result
        raise ItemNotInPlex([self.mapper.to_plex(path) for path in stash_paths])

    @staticmethod
    def _in_sections(parts: Sequence[Any], sections: set[int] | None) -> list[Any]:
        return [part for part in parts if sections is None or part.section_id in sections]

    def _decide(self, parts: list[Any], method: str, stash_path: str) -> MatchResult | None:
        distinct = {part.rating_key: part for part in parts}
        if not distinct:
            return None
        if len(distinct) > 1:
            if self.strict:
                raise AmbiguousMatch([(part.rating_key, part.file) for part in distinct.values()])
            best = max(distinct.values(), key=lambda part: _common_suffix(part.file, stash_path))
            return MatchResult(best.rating_key, best.section_id, method, best.file)
        (part,) = distinct.values()
        return MatchResult(part.rating_key, part.section_id, method, part.file)


def _common_suffix(plex_file: str, stash_path: str) -> int:
    """Matching trailing path segments: the non-strict tie-break prefers the closest folder structure."""
    a = path_key(plex_file).split("/")[::-1]
    b = path_key(stash_path).split("/")[::-1]
    count = 0
    for left, right in zip(a, b):
        if left != right:
            break
        count += 1
    return count
