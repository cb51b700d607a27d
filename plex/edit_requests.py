"""One scene's edit as PUTs, each tag type's whole list in one of them.

**The whole-list rule.** Each tag type's whole list goes in one PUT: Plex replaces an item's whole list of a tag
type with each indexed list it receives (``genre[0].tag.tag=…``; plexapi's maintainers, PR #151), so a list
sent in parts would keep only the last part. A list that fits no request the server takes is cut to its
longest start that fits, in the order given (Stash's), and what was left out is named (``left_out``).

With no request-size limit known (``limit`` None) the edit is one PUT, plus an earlier one removing the old
spellings of a case-only rename: Plex gives a name the spelling of a tag already in use, the item's own
included (``plex.metadata_fields``). Once Plex or a proxy in front of it refused a request for its size
(``plex.request_limit``), the edit is packed into as few PUTs as keep every request line within that limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from plex.metadata_fields import (
    PHOTOS,
    TAG_TYPES,
    removal_params,
    renamed_spellings,
    scalar_group,
    tag_names,
    tag_params,
)

Measure = Callable[[dict[str, Any]], int]  # the request line's size for these parameters


@dataclass
class EditRequests:
    puts: list[dict[str, Any]] = field(default_factory=list)  # one parameter dict per PUT, in sending order
    kept: dict[str, list[str]] = field(default_factory=dict)  # tag type → the names sent, when its list was cut
    left_out: dict[str, list[str]] = field(default_factory=dict)  # tag type → the names that did not fit


@dataclass
class _Group:
    params: dict[str, Any]
    writes: str | None = None  # the tag type whose list this group sends
    renames: str | None = None  # the tag type whose old spellings this group removes
    names: list[str] = field(default_factory=list)
    thumbs: dict[str, str] | None = None


def plan_edit(changes: Mapping[str, Any], before: Mapping[str, Any], locks: Iterable[str], measure: Measure,
              limit: int | None = None) -> EditRequests:
    """The PUTs writing and locking ``changes`` (``before``: the values they replace, for case-only renames)
    and locking the Plex fields in ``locks``; ``limit``: the longest request line the server takes, if known."""
    groups = _groups(changes, before, locks)
    renames = [group for group in groups if group.renames]
    rest = [group for group in groups if not group.renames]
    if limit is None:
        return EditRequests([_merged(part) for part in (renames, rest) if part])
    plan = EditRequests()
    for part in (renames, rest):  # every removal of an old spelling goes before any list is sent
        _pack(part, measure, limit, plan)
    return plan


def _merged(groups: list[_Group]) -> dict[str, Any]:
    return {key: value for group in groups for key, value in group.params.items()}


def _pack(groups: list[_Group], measure: Measure, limit: int, plan: EditRequests) -> None:
    """Groups in order into the fewest PUTs within ``limit``; a list too long for any request is cut."""
    def fits(params: dict[str, Any]) -> bool:
        return measure(params) <= limit

    whole = _merged(groups)
    if not whole or fits(whole):  # the usual case: one PUT (or none), measured once
        plan.puts.extend([whole] if whole else [])
        return
    current: dict[str, Any] = {}
    for group in groups:
        if current and not fits({**current, **group.params}):
            plan.puts.append(current)
            current = {}
        if fits({**current, **group.params}) or group.writes is None:
            # A scalar always fits one request within validation.limits' caps; if not, the refusal shows.
            current.update(group.params)
            continue
        kept = _longest_start(group, fits)
        plan.kept[group.writes] = kept
        plan.left_out[group.writes] = group.names[len(kept):]
        plan.puts.append(tag_params(group.writes, kept, group.thumbs))
    if current:
        plan.puts.append(current)


def _longest_start(group: _Group, fits: Callable[[dict[str, Any]], bool]) -> list[str]:
    """The most names from the start of the list whose request fits (at least one: an empty list would clear
    the type, and a single name always fits within the request limits' floor)."""
    assert group.writes is not None
    low, high = 1, len(group.names)  # names[:low] is sent either way; names[:high + 1] is known not to fit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(tag_params(group.writes, group.names[:middle], group.thumbs)):
            low = middle
        else:
            high = middle - 1
    return group.names[:low]


def _groups(changes: Mapping[str, Any], before: Mapping[str, Any], locks: Iterable[str]) -> list[_Group]:
    groups = [_Group(scalar_group(name, value)) for name, value in changes.items()
              if name not in TAG_TYPES and name != PHOTOS]
    thumbs = changes.get(PHOTOS) or None  # sent with the actor list (never on their own)
    lists = {name: tag_names(value) for name, value in changes.items() if name in TAG_TYPES}
    # Plex field names, already complete; a written list carries its own lock
    extra_locks = {f"{lock}.locked": 1 for lock in locks if lock not in lists}
    if extra_locks:
        groups.append(_Group(extra_locks))
    for tag_type, names in lists.items():
        renamed = renamed_spellings(before.get(tag_type) or [], names)
        if renamed:
            groups.append(_Group(removal_params(tag_type, renamed), renames=tag_type))
    for tag_type, names in lists.items():
        photos = thumbs if tag_type == "actor" else None
        groups.append(_Group(tag_params(tag_type, names, photos), writes=tag_type, names=names, thumbs=photos))
    return groups
