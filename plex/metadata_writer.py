"""Make one Plex item show what Stash says, in as few requests as possible.

- Nothing changed since our last push → 0 requests.
- A field or two changed and we know what we wrote last → 1 PUT, no read.
- First push, collection changes (the user's own must survive) or ``preserve_plex_edits`` → 1 detail read
  (list views truncate tags), then 1 PUT with every change. Every written field is locked.
- Images are uploaded only when their content hash changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

from plexapi.mixins import EditTagsMixin

SCALARS = ("title", "summary", "tagline", "originallyAvailableAt", "year", "studio", "userRating")
TAG_TYPES = ("director", "genre", "actor", "collection")
_PLEX_TAG_ATTR = {"director": "directors", "genre": "genres", "actor": "roles", "collection": "collections"}


@dataclass(frozen=True)
class ImageSource:
    url: str
    fetch: Callable[[], bytes]


@dataclass
class PushRecord:
    """What we last put into the item: the next push diffs against this instead of reading Plex."""

    fingerprint: str
    rating_key: int | None = None  # the item it describes: a re-added item starts from scratch
    snapshot: dict[str, Any] = field(default_factory=dict)
    image_urls: dict[str, str] = field(default_factory=dict)
    image_hashes: dict[str, str] = field(default_factory=dict)
    added_collections: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PushRecord:
        data = json.loads(text)
        return cls(**{key: data[key] for key in ("fingerprint", "rating_key", "snapshot", "image_urls",
                                                 "image_hashes", "added_collections") if key in data})


@dataclass
class PushResult:
    record: PushRecord
    wrote_fields: list[str]
    uploaded: list[str]
    requests: int


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def current_values(item: Any) -> dict[str, Any]:
    """The item's values in the shape of our ``wanted`` dict (from a full detail object)."""
    values: dict[str, Any] = {name: _scalar_text(getattr(item, name, None)) for name in SCALARS}
    for tag_type, attribute in _PLEX_TAG_ATTR.items():
        values[tag_type] = [tag.tag for tag in getattr(item, attribute, []) or []]
    return values


def _same(field_name: str, left: Any, right: Any) -> bool:
    if field_name in TAG_TYPES:
        return list(left or []) == list(right or [])
    return _scalar_text(left) == _scalar_text(right)


def edit_params(changes: Mapping[str, Any], removals: Mapping[str, list[str]]) -> dict[str, Any]:
    """Query parameters for one PUT, through plexapi's own tag helper so the encoding is plexapi's."""
    params: dict[str, Any] = {}
    for name, value in changes.items():
        if name in TAG_TYPES:
            if removals.get(name):
                params.update(EditTagsMixin._tagHelper(name, removals[name], locked=True, remove=True))
            if value:
                params.update(EditTagsMixin._tagHelper(name, list(value), locked=True))
            params[f"{name}.locked"] = 1
        else:
            params[f"{name}.value"] = _scalar_text(value)
            params[f"{name}.locked"] = 1
    return params


def merge_collections(current: list[str], ours_before: list[str], ours_now: list[str]) -> list[str]:
    """The user's own collections stay; the ones PlexSync added before are replaced by the ones it wants now."""
    user_own = [name for name in current or [] if name not in ours_before]
    return user_own + [name for name in ours_now if name not in user_own]


class MetadataWriter:
    def __init__(self, client: Any, *, preserve_plex_edits: bool = False) -> None:
        self.client = client
        self.preserve_plex_edits = preserve_plex_edits

    def push(self, rating_key: int, section_id: int, wanted: Mapping[str, Any], images: Mapping[str, ImageSource],
             previous: PushRecord | None, fingerprint: str) -> PushResult:
        before = self.client.request_count
        wanted = dict(wanted)
        known = dict(previous.snapshot) if previous else {}
        ours = list(previous.added_collections) if previous else []
        collections_change = "collection" in wanted and merge_collections(
            known.get("collection", []), ours, wanted["collection"]) != known.get("collection")
        if previous is None or self.preserve_plex_edits or collections_change:
            base = current_values(self.client.fetch_detail(rating_key))
            if self.preserve_plex_edits and previous is not None:
                self._drop_fields_edited_in_plex(wanted, base, known)
        else:
            base = known
        added = ours
        if "collection" in wanted:
            user_own = [name for name in base.get("collection", []) or [] if name not in ours]
            added = [name for name in wanted["collection"] if name not in user_own]
            wanted["collection"] = merge_collections(base.get("collection", []), ours, wanted["collection"])
        changes = {name: value for name, value in wanted.items() if not _same(name, base.get(name), value)}
        removals = {name: [tag for tag in (base.get(name) or []) if tag not in (changes[name] or [])]
                    for name in changes if name in TAG_TYPES}
        if changes:
            self.client.put_edits(section_id, rating_key, edit_params(changes, removals))
        record = PushRecord(
            fingerprint=fingerprint,
            rating_key=int(rating_key),
            snapshot={**known, **wanted},
            image_urls=dict(previous.image_urls) if previous else {},
            image_hashes=dict(previous.image_hashes) if previous else {},
            added_collections=added,
        )
        uploaded = self._push_images(rating_key, images, record)
        return PushResult(record, sorted(changes), uploaded, self.client.request_count - before)

    @staticmethod
    def _drop_fields_edited_in_plex(wanted: dict[str, Any], current: Mapping[str, Any],
                                    known: Mapping[str, Any]) -> None:
        """preserve_plex_edits: a field someone changed in Plex since our last write is theirs now.
        Collections are exempt: the user's own are always kept by the merge."""
        for name in list(wanted):
            if name != "collection" and name in known and not _same(name, current.get(name), known[name]):
                wanted.pop(name)

    def _push_images(self, rating_key: int, images: Mapping[str, ImageSource], record: PushRecord) -> list[str]:
        uploaded = []
        for kind, source in images.items():
            if record.image_urls.get(kind) == source.url:
                continue
            data = source.fetch()
            digest = hashlib.sha1(data).hexdigest()
            if record.image_hashes.get(kind) != digest:
                self.client.upload_image(rating_key, kind, data)
                uploaded.append(kind)
                record.image_hashes[kind] = digest
            record.image_urls[kind] = source.url
        return uploaded
