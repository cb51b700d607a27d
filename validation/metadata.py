"""What PlexSync wants a Plex item to show for one Stash scene (the model), built from Stash's data.

Stash is authoritative: an empty field clears Plex's, lists are exact sets. One exception: an empty Stash title
never clears Plex's (scan-created scenes have none, and Plex's file-name title is better than nothing); with
``title_from_filename`` the file's name is written instead. The optional fields live in ``metadata_extras``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import MINYEAR, date
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from validation import limits
from validation.metadata_extras import (
    collection_name,
    content_rating,
    filename_title,
    group_names,
    plex_photo_url,
    sort_title,
    studio_and_parent,
    tag_collections,
)
from validation.sanitizers import clean_summary, clean_text, unique_names

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class SceneDataError(ValueError):
    """Stash sent a scene PlexSync cannot read; the message names the scene and the field."""


class PlexMetadata(BaseModel):
    """The wanted state of one Plex item. ``None``/``""``/``[]`` mean "clear it in Plex"."""

    model_config = ConfigDict(frozen=True)

    scene_id: int
    title: str | None = None
    title_sort: str | None = None
    content_rating: str = ""
    summary: str = ""
    tagline: str = ""
    originally_available_at: str | None = None
    year: int | None = None
    studio: str = ""
    user_rating: float | None = None
    directors: list[str] = Field(default_factory=list)
    genres: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    actor_photos: dict[str, str] | None = None  # actor → photo URL; None: photos are not written
    collections: list[str] = Field(default_factory=list)
    image_url: str | None = None
    primary_file: str | None = None
    enabled_fields: frozenset[str] = frozenset()
    warnings: list[str] = Field(default_factory=list)

    def plex_fields(self) -> dict[str, Any]:
        """Wanted values keyed by Plex field name; fields switched off in the settings are absent."""
        every = {
            "title": self.title,
            "titleSort": self.title_sort,
            "contentRating": self.content_rating,
            "summary": self.summary,
            "tagline": self.tagline,
            "originallyAvailableAt": self.originally_available_at,
            "year": self.year,
            "studio": self.studio,
            "userRating": self.user_rating,
            "director": list(self.directors),
            "genre": list(self.genres),
            "actor": list(self.actors),
            "collection": list(self.collections),
        }
        fields = {key: value for key, value in every.items() if key in self.enabled_fields}
        if "actor" in fields and self.actor_photos is not None:
            fields["actorThumb"] = {name: url for name, url in self.actor_photos.items() if name in self.actors}
        if not fields.get("title"):
            fields.pop("title", None)  # an empty Stash title never clears Plex's
            fields.pop("titleSort", None)
        return fields

    @property
    def images(self) -> dict[str, str]:
        """Image kind → Stash URL (poster and background both come from the scene's cover)."""
        if not self.image_url:
            return {}
        return {kind: self.image_url for kind in ("poster", "art") if kind in self.enabled_fields}

    def fingerprint(self) -> str:
        """Stable hash of everything that decides what Plex gets; equal fingerprints need no Plex request."""
        canonical = {
            "fields": self.plex_fields(),
            "images": self.images,
            "file": self.primary_file,
            "enabled": sorted(self.enabled_fields),
        }
        encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def parse_date(value: Any, scene_id: int) -> tuple[str | None, int | None, list[str]]:
    """Stash dates: ``YYYY-MM-DD`` → (date, year); ``YYYY-MM``/``YYYY`` → (None, year); none → (None, None).

    A day or month that does not exist (2021-02-30, 2021-13) keeps only its year, with a warning: Plex must
    never get an invalid ``originallyAvailableAt``, and a typo'd day or month says nothing against the year."""
    if value in (None, ""):
        return None, None, []
    text = str(value).strip()
    shape = _DATE.match(text)
    if not shape or int(shape.group(1)) < MINYEAR:
        return None, None, [f"scene {scene_id}: date {text!r} is not YYYY-MM-DD, YYYY-MM or YYYY; "
                            "date and year cleared"]
    year, month, day = shape.groups()
    if not _exists(year, month or "01", day or "01"):
        return None, int(year), [f"scene {scene_id}: date {text!r} is not a real date; year kept, date cleared"]
    return (text if day else None), int(year), []


def _exists(year: str, month: str, day: str) -> bool:
    try:
        date.fromisoformat(f"{year}-{month}-{day}")
    except ValueError:
        return False
    return True


def _names(items: Any, scene_id: int, field: str) -> list[Mapping[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise SceneDataError(f"scene {scene_id}: {field} must be a list of objects, got {type(items).__name__}")
    return items


def actor_name(performer: Mapping[str, Any]) -> str:
    """``Name (Disambiguation)`` keeps two different performers from merging into one Plex actor."""
    name = clean_text(performer.get("name"), limits.TAG)
    disambiguation = clean_text(performer.get("disambiguation"), limits.TAG)
    return f"{name} ({disambiguation})" if name and disambiguation else name


def _studio_names(studio: Any) -> tuple[str, list[str]]:
    """The studio's name, and the collections it and its parent name."""
    names = [collection_name(item) for item in studio_and_parent(studio)]
    return (names[0] if names else ""), [name for name in names if name]


def _rating(value: Any, scene_id: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise SceneDataError(f"scene {scene_id}: rating100 must be a number from 0 to 100, got {value!r}")
    return round(value / 10, 1)


def _scene_id(scene: Any) -> int:
    if not isinstance(scene, Mapping):
        raise SceneDataError(f"a scene must be an object, got {type(scene).__name__}")
    raw = scene.get("id")
    if not (str(raw or "").isascii() and str(raw or "").isdigit()):  # "²".isdigit() is True too
        raise SceneDataError(f"scene without a numeric id: {raw!r}")
    return int(raw)


def _actors(performers: list[Mapping[str, Any]], config: Any,
            photo_key: str | None) -> tuple[list[str], dict[str, str] | None]:
    """The cast, and each member's photo URL when photos are on (``photo_key``: the API key the user allowed
    into the URLs, or None)."""
    actors = unique_names([actor_name(p) for p in performers], limits.MAX_ACTORS)
    if not config.stash_url_for_plex:
        return actors, None
    found: dict[str, str] = {}
    for performer in performers:
        url = plex_photo_url(performer.get("image_path"), config.stash_url_for_plex, photo_key)
        found.setdefault(actor_name(performer), url)
    return actors, {name: found[name] for name in actors if found.get(name)}


def build_metadata(scene: Mapping[str, Any], config: Any, *, photos: bool = True,
                   photo_key: str | None = None) -> PlexMetadata:
    """Map a Stash scene (GraphQL dict) to the Plex state we want, honouring the field toggles.

    ``photos``: False when performer photos cannot be given to Plex this run (Stash needs a key the user did
    not allow into URLs); ``photo_key``: the API key to put into photo URLs."""
    scene_id = _scene_id(scene)
    date, year, warnings = parse_date(scene.get("date"), scene_id)
    studio, collections = _studio_names(scene.get("studio"))
    director = clean_text(scene.get("director"), limits.DIRECTOR)
    files = _names(scene.get("files"), scene_id, "files")
    primary_file = str(files[0].get("path")) if files else None
    paths = scene.get("paths") if isinstance(scene.get("paths"), Mapping) else {}
    raw_tags = [t.get("name") for t in _names(scene.get("tags"), scene_id, "tags")]
    tags = [clean_text(name, limits.TAG) for name in raw_tags]
    title = clean_text(scene.get("title"), limits.TITLE) or (
        filename_title(primary_file) if config.title_from_filename else "")
    collections += tag_collections(tags, config)
    if config.group_collections:
        collections += group_names(scene.get("groups"))
    performers = _names(scene.get("performers"), scene_id, "performers")
    actors, actor_photos = _actors(performers, config, photo_key)
    try:
        return PlexMetadata(
            scene_id=scene_id,
            title=title or None,
            title_sort=sort_title(title) if title else None,
            content_rating=content_rating(tags, config),
            summary=clean_summary(scene.get("details")),
            tagline=clean_text(scene.get("code"), limits.TAGLINE),
            originally_available_at=date,
            year=year,
            studio=studio,
            user_rating=_rating(scene.get("rating100"), scene_id),
            directors=[director] if director else [],
            genres=unique_names(raw_tags, config.max_tags),
            actors=actors,
            actor_photos=actor_photos if photos else None,
            collections=unique_names(collections, limits.MAX_COLLECTIONS),
            image_url=paths.get("screenshot") or None,
            primary_file=primary_file,
            enabled_fields=config.enabled_fields,
            warnings=warnings,
        )
    except ValidationError as exc:  # a field of a type Stash never sends: this scene fails, not the whole drain
        fields = ", ".join(sorted({str(error["loc"][0]) for error in exc.errors(include_input=False)}))
        raise SceneDataError(f"scene {scene_id}: Stash sent {fields} in a form PlexSync cannot read") from None
