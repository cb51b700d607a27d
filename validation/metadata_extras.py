"""The optional Plex fields users ask for (docs/config.md): a title from the file name, a sort title, a content
rating, collections from tags and groups, and performer photo URLs Plex can fetch.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from validation import limits
from validation.sanitizers import clean_text

# A leading date as scene files and titles spell it: 2024-03-02, 2024.03.02, 2024_03_02, 2024 03 02, 24.03.02
# (a two-digit year never with spaces: "10 20 30 Workout" is a title, not a date).
_LEADING_DATE = re.compile(r"^(?:\d{4}[-._ ]|\d{2}[-._])[01]\d[-._ ][0-3]\d\b[\s\-–—_.:]*")
# The object part of a Stash image URL (internal/api/urlbuilders): what follows Stash's base URL and base path.
_STASH_IMAGE = re.compile(r"/(?:performer|studio|group)/[^/?#]+/(?:image|frontimage)$")
# English articles only: Plex strips these itself only for libraries in an article-stripping language, and the
# "Personal Media"/"Other Videos" libraries that hold Stash scenes usually have none.
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def filename_title(path: str | None) -> str:
    """The file's name without folders or extension ("clip_0001" from ``/data/Misc/clip_0001.mp4``)."""
    if not path:
        return ""
    name = re.split(r"[\\/]", str(path))[-1]
    stem, dot, _ = name.rpartition(".")
    return clean_text(stem if dot and stem else name, limits.TITLE)


def sort_title(title: str) -> str:
    """``2024-03-02 Harbour Lights`` → ``Harbour Lights 2024-03-02`` (the date still orders same-named scenes);
    ``The Harbour`` → ``Harbour`` (as Plex sorts an English library). Anything else sorts as itself."""
    date = _LEADING_DATE.match(title)
    rest = title[date.end():].strip() if date else title
    if date and rest:
        return sort_title(rest) + " " + date.group(0).strip(" -–—_.:")
    article = _LEADING_ARTICLE.match(title)
    if article and title[article.end():].strip():
        return title[article.end():].strip()
    return title


def parse_rating_tags(text: str) -> list[tuple[str, str]]:
    """``"Softcore=R; Hardcore=XXX"`` → [(tag, rating)] in the user's order; ValueError names a broken rule."""
    rules = []
    for raw in text.replace("\n", ";").split(";"):
        rule = raw.strip()
        if not rule:
            continue
        tag, sep, rating = (part.strip() for part in rule.partition("="))
        if not sep or not tag or not rating or "=" in rating:
            raise ValueError(f"content_rating_tags: rule {rule!r} must be Tag=Rating (e.g. Softcore=R; Hardcore=XXX)")
        rules.append((tag, clean_text(rating, limits.TITLE)))
    return rules


def content_rating(tag_names: Iterable[str], config: Any) -> str:
    """The first rule (in the user's order) whose tag the scene carries, else the fixed ``content_rating``."""
    carried = {name.casefold() for name in tag_names}
    for tag, rating in parse_rating_tags(config.content_rating_tags):
        if tag.casefold() in carried:
            return rating
    return clean_text(config.content_rating, limits.TITLE)


def listed_names(text: str) -> list[str]:
    """A setting's comma- or semicolon-separated names, trimmed, empty ones dropped."""
    return [name.strip() for name in re.split(r"[,;\n]", text) if name.strip()]


def tag_collections(tag_names: Iterable[str], config: Any) -> list[str]:
    """The scene's tags the user listed in ``collection_tags`` (matched ignoring case, Stash's spelling kept)."""
    listed = {name.casefold() for name in listed_names(config.collection_tags)}
    return [name for name in tag_names if name.casefold() in listed]


def studio_and_parent(studio: Any) -> list[Mapping[str, Any]]:
    """The scene's studio and its parent studio, those that are objects: each names a collection."""
    if not isinstance(studio, Mapping):
        return []
    parent = studio.get("parent_studio")
    return [studio, parent] if isinstance(parent, Mapping) else [studio]


def scene_groups(groups: Any) -> list[Mapping[str, Any]]:
    """The group objects of ``groups { group { … } }``."""
    if not isinstance(groups, list):
        return []
    return [entry["group"] for entry in groups
            if isinstance(entry, Mapping) and isinstance(entry.get("group"), Mapping)]


def collection_name(stash_object: Mapping[str, Any]) -> str:
    """The Plex collection a studio or group names ('' when it has no usable name)."""
    return clean_text(stash_object.get("name"), limits.STUDIO)


def group_names(groups: Any) -> list[str]:
    """Names of the scene's groups, when ``group_collections`` is on."""
    return [name for name in map(collection_name, scene_groups(groups)) if name]


def plex_photo_url(image_path: Any, stash_url_for_plex: str, api_key: str | None = None) -> str:
    """Stash's performer ``image_path`` at the address Plex reaches Stash by ('' when there is no photo).

    Stash builds the URL from the plugin's request (its host, or ``external_host``, plus ``X-Forwarded-Prefix``),
    so the scheme, host and base path are replaced by ``stash_url_for_plex``. ``default=true`` marks Stash's
    placeholder for a performer without an image: no photo. ``t`` is kept: it is the performer's ``updated_at``
    (stash-protocol.md §5.2), the same on every read until the performer is edited, so it never makes an
    unchanged push differ; and a new image moves it, which gives Plex a new URL to fetch instead of its cached
    copy of the old one. ``api_key`` (only when the user allowed it) is added as ``apikey=``, which Stash takes
    in place of its ``ApiKey`` header (pkg/session/session.go)."""
    if not image_path or not stash_url_for_plex:
        return ""
    parts = urlsplit(str(image_path))
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "apikey"]
    found = _STASH_IMAGE.search(parts.path)
    if found is None or ("default", "true") in query:
        return ""
    if api_key:
        query.append(("apikey", api_key))
    return stash_url_for_plex.rstrip("/") + found.group(0) + ("?" + urlencode(query) if query else "")
