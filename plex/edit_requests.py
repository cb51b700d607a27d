"""One scene's edit as the fewest PUTs whose request lines all fit what a reverse proxy in front of Plex takes.

nginx and Apache answer 414 to a request line over 8 KiB and a real PMS answered 400 to a ~35 KB edit
(``validation.limits``), so the edit is cut into groups — each scalar with its lock, the locks sent on their
own, each tag type's list with its removals — packed in that order (scalars first) into as few PUTs as keep
every request line within ``REQUEST_LINE_BYTES``. An unchanged scene has no group and sends no PUT.

A case-only rename ("Action" → "action") removes the old spelling in a PUT before the one that sends the list:
Plex gives a name the spelling of a tag already in use, the item's own included (``plex.metadata_fields``).

One tag type's list longer than a request (200 performers, 100 long CJK tags) is sent in parts: the first part
with the removals, every part with its own entry indices (``genre[40].tag.tag``…), so the parts add up on a
server that adds indexed entries to the item's list, as the official API's separate clear (``genre[].tag``) and
removal (``genre[].tag.tag-``) forms imply. plexapi's maintainers describe an indexed list as replacing the
item's list (plex-api.md §0.2); on such a server only the last part would stay, so the writer reads a split
type back and reports what Plex kept (``split_types``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from plex.metadata_fields import (
    PHOTOS,
    TAG_TYPES,
    removal_params,
    removed_names,
    renamed_spellings,
    scalar_group,
    tag_names,
    tag_params,
)
from validation.limits import REQUEST_LINE_BYTES

Measure = Callable[[dict[str, Any]], int]  # the request line's size for these parameters


@dataclass
class EditRequests:
    puts: list[dict[str, Any]] = field(default_factory=list)  # one parameter dict per PUT, in sending order
    split_types: list[str] = field(default_factory=list)  # tag types whose list went in several PUTs


@dataclass
class _Group:
    params: dict[str, Any]
    writes: str | None = None  # the tag type whose list this group sends
    renames: str | None = None  # the tag type whose old spellings this group removes
    names: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def plan_edit(changes: Mapping[str, Any], before: Mapping[str, Any], locks: Iterable[str], measure: Measure,
              limit: int = REQUEST_LINE_BYTES) -> EditRequests:
    """The PUTs writing and locking ``changes`` (``before``: the values they replace, for removals) and locking
    the Plex fields in ``locks``."""
    def fits(params: dict[str, Any]) -> bool:
        return measure(params) <= limit

    groups = _groups(changes, before, locks)
    whole = {key: value for group in groups for key, value in group.params.items()}
    if not any(group.renames for group in groups) and (not whole or fits(whole)):
        return EditRequests([whole] if whole else [])  # the usual case: one PUT (or none), measured once
    plan = EditRequests()
    current: dict[str, Any] = {}
    renamed_here: set[str] = set()
    for group in groups:
        if current and (group.writes in renamed_here or not fits({**current, **group.params})):
            plan.puts.append(current)
            current, renamed_here = {}, set()
        if fits({**current, **group.params}):
            current.update(group.params)
            renamed_here.update([group.renames] if group.renames else [])
            continue
        if group.writes is None:  # cannot happen within validation.limits' caps; if it does, the refusal shows
            plan.puts.append(group.params)
            continue
        parts = _parts(group.writes, group.names, group.removed, fits, _thumbs(group.writes, changes.get(PHOTOS)))
        plan.split_types.append(group.writes)
        plan.puts.extend(parts[:-1])
        current = parts[-1]
    if current:
        plan.puts.append(current)
    return plan


def _groups(changes: Mapping[str, Any], before: Mapping[str, Any], locks: Iterable[str]) -> list[_Group]:
    groups = [_Group(scalar_group(name, value)) for name, value in changes.items()
              if name not in TAG_TYPES and name != PHOTOS]
    thumbs = changes.get(PHOTOS) or None  # sent with the actor list (never on their own)
    extra_locks = {f"{lock}.locked": 1 for lock in locks}  # Plex field names, already complete
    if extra_locks:
        groups.append(_Group(extra_locks))
    lists = {name: tag_names(value) for name, value in changes.items() if name in TAG_TYPES}
    for tag_type, names in lists.items():
        renamed = renamed_spellings(before.get(tag_type) or [], names)
        if renamed:
            groups.append(_Group(removal_params(tag_type, renamed), renames=tag_type))
    for tag_type, names in lists.items():
        removed = removed_names(before.get(tag_type) or [], names)
        groups.append(_Group(tag_params(tag_type, names, removed, clear=not names, thumbs=_thumbs(tag_type, thumbs)),
                             writes=tag_type, names=names, removed=removed))
    return groups


def _thumbs(tag_type: str, thumbs: Any) -> dict[str, str] | None:
    return thumbs if tag_type == "actor" and thumbs else None


def _parts(tag_type: str, names: list[str], removed: list[str], fits: Callable[[dict[str, Any]], bool],
           thumbs: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One tag type's list in as few requests as fit: removals first, then the names (with their photos)."""
    parts: list[dict[str, Any]] = []
    part_removed: list[str] = []
    part_names: list[str] = []
    first = 0
    for is_removal, name in [(True, name) for name in removed] + [(False, name) for name in names]:
        trial_removed = part_removed + [name] if is_removal else part_removed
        trial_names = part_names if is_removal else part_names + [name]
        if (part_removed or part_names) and not fits(tag_params(tag_type, trial_names, trial_removed, first,
                                                                  thumbs=thumbs)):
            parts.append(tag_params(tag_type, part_names, part_removed, first, thumbs=thumbs))
            first += len(part_names)
            trial_removed, trial_names = ([name], []) if is_removal else ([], [name])
        part_removed, part_names = trial_removed, trial_names
    parts.append(tag_params(tag_type, part_names, part_removed, first, thumbs=thumbs))
    return parts
