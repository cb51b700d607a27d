"""Health Check's look at ``path_map``: do sampled Stash paths, mapped, land in a Plex library folder?

A rule that maps nothing into Plex's folders makes every scene "not in Plex" with no other sign; this finds it
once, names a sampled path and where it went, and suggests a rule from what the two sides have in common.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from plex.matcher import PathMapper, fold, is_under
from validation.settings.names import mention

_SEGMENT = re.compile(r"[^\\/]+")


def check_path_map(rules: Sequence[tuple[str, str]], folders: Sequence[str], stash_paths: Sequence[str]) -> dict:
    """``{"sampled", "mapped_into_library", "problems", "suggestion"}``; no problem when nothing was sampled."""
    mapper = PathMapper(rules)
    mapped = [(path, mapper.to_plex(path)) for path in stash_paths]
    inside = sum(any(is_under(plex_path, folder) for folder in folders) for _, plex_path in mapped)
    problems = [_wrong_way(rule, folders, stash_paths) for rule in rules]
    problems = [problem for problem in problems if problem]
    suggestion = None
    if mapped and folders and inside == 0:
        suggestion = suggest_rule(folders, stash_paths)
        path, plex_path = mapped[0]
        text = (f"none of {len(mapped)} sampled Stash paths maps into a Plex library folder: {path} → {plex_path}; "
                f"Plex's folders: {', '.join(folders)}")
        problems.insert(0, text + (f". Add a rule such as {suggestion} to {mention('path_map')}" if suggestion else ""))
    return {"sampled": len(mapped), "mapped_into_library": inside, "problems": problems, "suggestion": suggestion}


def _wrong_way(rule: tuple[str, str], folders: Sequence[str], stash_paths: Sequence[str]) -> str | None:
    """Left side a Plex folder and right side a Stash prefix: the rule was written Plex=Stash."""
    stash_side, plex_side = rule
    left_is_plex = any(is_under(stash_side, folder) or is_under(folder, stash_side) for folder in folders)
    right_is_stash = any(is_under(path, plex_side) for path in stash_paths)
    left_is_stash = any(is_under(path, stash_side) for path in stash_paths)
    if left_is_plex and right_is_stash and not left_is_stash:
        return (f"{mention('path_map')} rule {stash_side}={plex_side} points the wrong way: its left side is a Plex "
                f"folder and its right side a Stash prefix; write Stash prefix=Plex prefix: {plex_side}={stash_side}")
    return None


def suggest_rule(folders: Sequence[str], stash_paths: Sequence[str]) -> str | None:
    """A rule from the longest common suffix of a Stash path's folder and a library folder (``/data/x/movies``
    and ``/media/movies`` → ``/data/x=/media``); with none and one library, the sampled paths' common folder
    mapped onto it. Among equals the deepest Stash folder wins (the name nearest the files)."""
    best: tuple[int, int, int, str] | None = None  # common names, paths covered, depth, rule
    for folder in folders:
        folder_segments = _names(folder)
        for path in stash_paths:
            directory = _names(path)[:-1]
            for depth in range(len(directory), 0, -1):
                common = _common_suffix(directory[:depth], folder_segments)
                if common:
                    rule = f"{_prefix(path, depth - common)}={_prefix(folder, len(folder_segments) - common)}"
                    covered = sum(1 for other in stash_paths if is_under(other, rule.split("=", 1)[0]))
                    candidate = (common, covered, depth, rule)
                    best = candidate if best is None or candidate[:3] > best[:3] else best
    if best is not None:
        return best[3]
    shared = _common_folder(stash_paths)
    return f"{shared}={folders[0]}" if shared and len(folders) == 1 else None


def _names(path: str) -> list[str]:
    return [fold(name) for name in _SEGMENT.findall(path)]


def _common_suffix(left: list[str], right: list[str]) -> int:
    count = 0
    while count < min(len(left), len(right)) and left[-1 - count] == right[-1 - count]:
        count += 1
    return count


def _prefix(path: str, segments: int) -> str:
    """``path`` cut after its first ``segments`` names, in its own spelling (``/`` for none on POSIX)."""
    if segments <= 0:
        return "/" if path.startswith("/") and not path.startswith("//") else path[:2] if path[1:2] == ":" else "/"
    ends = [match.end() for match in _SEGMENT.finditer(path)]
    return path[: ends[segments - 1]]


def _common_folder(paths: Iterable[str]) -> str | None:
    paths = list(paths)
    if not paths:
        return None
    shared = len(_names(paths[0])) - 1
    for path in paths[1:]:
        names, first = _names(path)[:-1], _names(paths[0])[:-1]
        shared = min(shared, next((i for i, (a, b) in enumerate(zip(first, names)) if a != b), min(len(first), len(names))))
    return _prefix(paths[0], shared) if shared > 0 else None
