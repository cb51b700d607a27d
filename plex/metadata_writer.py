"""Make one Plex item show what Stash says, in as few requests as possible.

Nothing changed since our last push: 0 requests. Fields changed and we know what we wrote last: 1 PUT with only
those, no read. A first push, a collection change (the user's own collections must survive) or
``preserve_plex_edits`` with something to write: 1 detail read (list views truncate tags), then 1 PUT; with
``preserve_plex_edits`` a field Plex shows differently from what we last wrote was edited in Plex and is left
alone. Images: 1 POST each, only when their content hash changed, before the PUT that carries their locks
(Plex selects an uploaded image; locking after that pins ours).

Every written field is locked, else an agent refresh could overwrite it. Lists follow the whole-list rule
(``plex.edit_requests``); when Plex or a proxy refuses a request for its size, the limit is learned
(``plex.request_limit``), and a list cut to fit counts as written while the wanted list and the limit stay the
same, so a re-sync writes nothing. A cover Plex cannot take is left out with the reason in ``notes``; the fields
are written anyway.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

from plex.edit_requests import EditRequests, plan_edit
from plex.errors import ImageUnusable, PlexRejected
from plex.images import image_problem, refusal_reason
from plex.metadata_fields import (
    FIELDS,
    PHOTOS,
    cast_photos,
    current_locks,
    current_values,
    final_collections,
    identical,
    image_locks,
    json_value,
    missing_locks,
    same,
    tag_names,
)
from plex.request_limit import RequestLimit
from validation.stash_log import get_logger

IMAGE_LABEL = {"poster": "poster", "art": "background"}
LIST_LABEL = {"actor": "performers", "genre": "tags", "director": "directors", "collection": "collections"}
RECORD_KEYS = ("fingerprint", "snapshot", "image_urls", "image_hashes", "added_collections", "rating_key",
               "left_out", "cut_at")
NAMED_LEFT_OUT = 20  # names listed in a note; the rest are counted

log = get_logger("plex.writer")


@dataclass(frozen=True)
class ImageSource:
    url: str
    fetch: Callable[[], bytes]


@dataclass
class PushRecord:
    """What we last put into the item: the next push diffs against this instead of reading Plex."""

    fingerprint: str
    snapshot: dict[str, Any] = field(default_factory=dict)
    image_urls: dict[str, str] = field(default_factory=dict)
    image_hashes: dict[str, str] = field(default_factory=dict)
    added_collections: list[str] = field(default_factory=list)
    rating_key: int | None = None  # the item it describes: a re-added item starts from scratch
    left_out: dict[str, list[str]] = field(default_factory=dict)  # tag type → wanted names a cut left out
    cut_at: dict[str, int] = field(default_factory=dict)  # tag type → the request limit (bytes) it was cut to

    def cut_notes(self) -> list[str]:
        """What Plex does not have of the cut lists, in words (for the scene's note and the log)."""
        return [cut_note(tag_type, tag_names(self.snapshot.get(tag_type)), names, self.cut_at.get(tag_type))
                for tag_type, names in self.left_out.items()]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PushRecord:
        data = json.loads(text)
        return cls(**{key: data[key] for key in RECORD_KEYS if key in data})


@dataclass
class PushResult:
    record: PushRecord
    wrote_fields: list[str]
    uploaded: list[str]
    requests: int
    unusable_images: dict[str, str] = field(default_factory=dict)  # kind → why it was left out
    notes: list[str] = field(default_factory=list)  # what Plex did not get, and why (for status and the log)
    cuts: list[str] = field(default_factory=list)  # the lists Plex holds only in part (``PushRecord.cut_notes``)


@dataclass
class _Upload:
    kind: str
    url: str
    data: bytes
    digest: str


@dataclass
class PushPlan:
    """One push decided but not made: ``changes`` replace ``base`` (the values diffed against). ``locks`` are
    the field locks to add; the uploaded images' locks join them once the uploads went through."""

    base: dict[str, Any]
    changes: dict[str, Any]
    record: PushRecord
    uploads: list[_Upload]
    locks: list[str]
    unusable: dict[str, str]
    effective: dict[str, Any]
    left_out: dict[str, list[str]] = field(default_factory=dict)  # tag type → names the edit would leave out

    @property
    def image_kinds(self) -> list[str]:
        return [upload.kind for upload in self.uploads]


def _photos_with_cast(effective: dict[str, Any], base: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """A changed photo writes the cast again, and a written cast carries every photo known for it (Plex drops
    the photo of an actor sent without one); what was sent, or is known to be there, is recorded."""
    if "actor" not in effective:
        effective.pop(PHOTOS, None)
        changes.pop(PHOTOS, None)
        return
    thumbs = cast_photos(effective["actor"], base.get(PHOTOS), effective.get(PHOTOS))
    if PHOTOS in changes or "actor" in changes:
        changes["actor"] = effective["actor"]
        changes.pop(PHOTOS, None)
        if thumbs:
            changes[PHOTOS] = thumbs
    effective[PHOTOS] = thumbs


def cut_note(tag_type: str, kept: list[str], left_out: list[str], line_bytes: int | None) -> str:
    """``"Plex got 64 of 120 performers …; left out: …"``: the first names, then how many more."""
    shown = ", ".join(left_out[:NAMED_LEFT_OUT]) + (f" and {len(left_out) - NAMED_LEFT_OUT} more"
                                                    if len(left_out) > NAMED_LEFT_OUT else "")
    limit = f"the {line_bytes:,} bytes" if line_bytes else "what"
    return (f"Plex got {len(kept)} of {len(kept) + len(left_out)} {LIST_LABEL.get(tag_type, tag_type)}: the whole "
            f"list is longer than {limit} Plex, or a proxy in front of it, takes in one request (a proxy's limit "
            f"can be raised, e.g. nginx's large_client_header_buffers); left out: {shown}")


class MetadataWriter:
    """``request_limit``: what the worker learned of this server's request size (shared by concurrent pushes).
    ``keep_plex_rating`` (``ratings_from_plex``): a first push leaves a Plex rating in place when Stash has none, so
    the next import brings it into Stash instead of the push clearing it."""

    def __init__(self, client: Any, *, preserve_plex_edits: bool = False,
                 request_limit: RequestLimit | None = None, keep_plex_rating: bool = False) -> None:
        self.client = client
        self.preserve_plex_edits = preserve_plex_edits
        self.request_limit = request_limit if request_limit is not None else RequestLimit()
        self.keep_plex_rating = keep_plex_rating

    def push(self, rating_key: int, section_id: int, wanted: Mapping[str, Any], images: Mapping[str, ImageSource],
             previous: PushRecord | None, fingerprint: str, detail: Any = None) -> PushResult:
        """``detail``: the item's detail view when the caller already read it (one GET for a whole batch)."""
        before_count = self.client.request_count
        plan = self.plan(rating_key, section_id, wanted, images, previous, fingerprint, detail)
        record, unusable = plan.record, plan.unusable
        uploaded = self._upload_images(rating_key, plan.uploads, record, unusable)
        locks = plan.locks + image_locks(uploaded)
        edit, limit = self._send_edit(section_id, rating_key, plan.changes, plan.base, locks)
        _record_cuts(record, edit, limit)
        notes = [f"{IMAGE_LABEL[kind]} left out: {reason}" for kind, reason in unusable.items()]
        return PushResult(record, sorted(plan.changes), uploaded, self.client.request_count - before_count,
                          unusable, notes, record.cut_notes())

    def plan(self, rating_key: int, section_id: int, wanted: Mapping[str, Any], images: Mapping[str, ImageSource],
             previous: PushRecord | None, fingerprint: str, detail: Any = None) -> PushPlan:
        """Everything ``push`` would write, decided without writing: reads only (the detail view when a push
        would read it, image bytes to compare hashes). ``push`` writes exactly this plan."""
        unknown = sorted(set(wanted) - set(FIELDS))
        if unknown:
            raise ValueError(f"MetadataWriter cannot write {', '.join(unknown)}")
        known = dict(previous.snapshot) if previous else {}
        ours_before = list(previous.added_collections) if previous else []
        base, locked, kept = self._starting_point(rating_key, wanted, previous, known, ours_before, detail)
        effective = {name: json_value(name, value) for name, value in wanted.items() if name not in kept}
        added = ours_before
        if "collection" in effective:
            current = tag_names(base.get("collection"))
            ours = {name.casefold() for name in ours_before}
            user_own = {name.casefold() for name in current if name.casefold() not in ours}
            added = [name for name in effective["collection"] if name.casefold() not in user_own]
            effective["collection"] = final_collections(current, ours_before, effective["collection"])
        held = self._held_cuts(previous, effective)
        changes = {name: value for name, value in effective.items()
                   if name not in base or not same(name, base[name], value)
                   or (name in known and not identical(name, known[name], value))}
        _photos_with_cast(effective, base, changes)
        if self.keep_plex_rating and previous is None and effective.get("userRating", 0) is None:
            changes.pop("userRating", None)  # recorded as "Plex was given none": Plex's rating reads as its own

        record = PushRecord(fingerprint, snapshot={**known, **effective},
                            image_urls=dict(previous.image_urls) if previous else {},
                            image_hashes=dict(previous.image_hashes) if previous else {},
                            added_collections=added, rating_key=int(rating_key),
                            left_out={tag_type: previous.left_out[tag_type] for tag_type in held} if previous else {},
                            cut_at={tag_type: previous.cut_at[tag_type] for tag_type in held} if previous else {})
        unusable: dict[str, str] = {}
        uploads = self._image_uploads(images, record, unusable)
        locks = missing_locks(effective, locked) if locked is not None else []
        edit = plan_edit(changes, base, locks, self._measure(section_id, rating_key), self.request_limit.line_bytes)
        return PushPlan(base, changes, record, uploads, locks, unusable, effective,
                        {**record.left_out, **edit.left_out})

    def _measure(self, section_id: int, rating_key: int) -> Callable[[dict[str, Any]], int]:
        return lambda params: self.client.edit_request_line_bytes(section_id, rating_key, params)

    def _held_cuts(self, previous: PushRecord | None, effective: dict[str, Any]) -> list[str]:
        """Lists cut by an earlier push that stay cut: the same wanted list, and a request limit no larger than
        the one they were cut to. What Plex got of them is what this push wants (in ``effective``, photos of the
        left-out performers dropped), so an unchanged scene writes nothing, however often it is synced.
        A list whose limit is unknown again (forgotten, or another server) is tried whole."""
        limit = self.request_limit.line_bytes
        if previous is None or limit is None:
            return []
        held = []
        for tag_type, left_out in previous.left_out.items():
            kept = tag_names(previous.snapshot.get(tag_type))
            cut_at = previous.cut_at.get(tag_type)
            if cut_at is not None and limit <= cut_at and effective.get(tag_type) == kept + list(left_out):
                effective[tag_type] = kept
                held.append(tag_type)
        if "actor" in held and PHOTOS in effective:
            effective[PHOTOS] = _photos_of(effective[PHOTOS], effective["actor"])
        return held

    def _send_edit(self, section_id: int, rating_key: int, changes: Mapping[str, Any], base: Mapping[str, Any],
                   locks: list[str]) -> tuple[EditRequests, int | None]:
        """Send the edit's PUTs; when one is refused for its size, plan the edit again within a lower limit
        and send what Plex has not taken yet (a PUT taken before is not sent again)."""
        measure = self._measure(section_id, rating_key)
        before, ours = self.request_limit.line_bytes, None  # ours: the last limit this push lowered to
        taken: list[dict[str, Any]] = []
        while True:
            limit = self.request_limit.line_bytes
            edit = plan_edit(changes, base, locks, measure, limit)
            params: dict[str, Any] = {}
            try:
                for params in edit.puts:
                    if params not in taken:
                        self.client.put_edits(section_id, rating_key, params)
                        taken.append(params)
                return edit, limit
            except PlexRejected as exc:
                refused = measure(params)
                lowered = self.request_limit.lower_after(exc, refused)
                if lowered is None:
                    if ours is not None:
                        self.request_limit.undo(ours, before)
                    raise
                ours = lowered
                log.info("Plex, or a proxy in front of it, refused a %s-byte edit request (%s): edits to this "
                         "server now stay within %s bytes per request", f"{refused:,}", exc.status, f"{lowered:,}")

    def _upload_images(self, rating_key: int, uploads: list[_Upload], record: PushRecord,
                       unusable: dict[str, str]) -> list[str]:
        """Upload the changed images; one Plex (or its proxy) refuses is left out, never the whole push."""
        uploaded: list[str] = []
        refused: dict[str, str] = {}  # digest → why: the same bytes as poster and background are refused once
        for upload in uploads:
            if upload.digest not in refused:
                try:
                    self.client.upload_image(rating_key, upload.kind, upload.data)
                except PlexRejected as exc:
                    refused[upload.digest] = refusal_reason(exc, len(upload.data))
            if upload.digest in refused:
                unusable[upload.kind] = refused[upload.digest]
                continue
            record.image_urls[upload.kind] = upload.url
            record.image_hashes[upload.kind] = upload.digest
            uploaded.append(upload.kind)
        return uploaded

    def _starting_point(self, rating_key: int, wanted: Mapping[str, Any], previous: PushRecord | None,
                        known: dict[str, Any], ours_before: list[str],
                        detail: Any = None) -> tuple[dict, set[str] | None, set[str]]:
        """(values to diff against, Plex's locks, fields left to Plex edits): read from the detail view when
        needed, else what we wrote last; then no lock is known to be missing (we locked what we wrote)."""
        if not self._needs_read(wanted, previous, known, ours_before):
            return known, None, set()
        item = detail if detail is not None else self.client.fetch_detail(rating_key)
        base = current_values(item)
        return base, current_locks(item), self._edited_in_plex(wanted, base, known) if previous else set()

    def _needs_read(self, wanted: Mapping[str, Any], previous: PushRecord | None, known: Mapping[str, Any],
                    ours_before: list[str]) -> bool:
        """Read Plex only for a first push, a collection change, or to protect Plex edits of changed fields."""
        if previous is None:
            return True
        if "collection" in wanted:
            if "collection" not in known:
                return True
            recorded = known["collection"]
            if set(final_collections(recorded, ours_before, tag_names(wanted["collection"]))) != set(recorded):
                return True
        if self.preserve_plex_edits:
            return any(name not in known or not identical(name, known[name], value)
                       for name, value in wanted.items() if name != "collection")
        return False

    def _edited_in_plex(self, wanted: Mapping[str, Any], current: Mapping[str, Any],
                        known: Mapping[str, Any]) -> set[str]:
        """preserve_plex_edits: fields someone changed in Plex since our last write are theirs now.
        Collections are exempt: the user's own ones are always kept by the merge."""
        if not self.preserve_plex_edits:
            return set()
        return {name for name in wanted
                if name != "collection" and name in known and not same(name, current.get(name), known[name])}

    @staticmethod
    def _image_uploads(images: Mapping[str, ImageSource], record: PushRecord,
                       unusable: dict[str, str]) -> list[_Upload]:
        """Images to upload: a new URL whose bytes differ from what we uploaded last (a same-bytes new URL is
        just recorded). An unusable cover is left out (and named in ``unusable``), never the whole item."""
        uploads = []
        for kind, source in images.items():
            if record.image_urls.get(kind) == source.url:
                continue
            try:
                data = source.fetch()
            except ImageUnusable as exc:
                unusable[kind] = str(exc)
                continue
            problem = image_problem(data)
            if problem is not None:
                unusable[kind] = problem
                continue
            digest = hashlib.sha1(data).hexdigest()
            if record.image_hashes.get(kind) == digest:
                record.image_urls[kind] = source.url
                continue
            uploads.append(_Upload(kind, source.url, data, digest))
        return uploads


def _photos_of(thumbs: Any, cast: list[str]) -> dict[str, str]:
    """The photos of ``cast`` only (names ignoring case, as Plex matches them)."""
    names = {name.casefold() for name in cast}
    return {name: url for name, url in (thumbs or {}).items() if name.casefold() in names}


def _record_cuts(record: PushRecord, edit: EditRequests, limit: int | None) -> None:
    """The record holds what Plex got of a cut list, and what was left out of it at which limit."""
    for tag_type, kept in edit.kept.items():
        record.snapshot[tag_type] = kept
        record.left_out[tag_type] = edit.left_out[tag_type]
        record.cut_at[tag_type] = int(limit) if limit is not None else 0
        if tag_type == "actor" and PHOTOS in record.snapshot:
            record.snapshot[PHOTOS] = _photos_of(record.snapshot[PHOTOS], kept)
