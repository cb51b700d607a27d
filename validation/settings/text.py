"""The text settings that stand for several switches: "Fields PlexSync leaves alone" (``tagline, rating``),
"Extras to turn on" (``sort titles, scan new files``) and "Content rating" (``Softcore=R; Hardcore=XXX; X``).

Stash's page lists every setting (at most 20 fit a screen a user reads), so these fold what were 21 switches
and two text settings. The config model still answers ``config.skip_tagline`` and ``config.content_rating``:
these functions turn the text into those values, and every error names the setting as its reader sees it.
"""

from __future__ import annotations

import difflib
import re

from validation.settings.names import mention

# The word a user writes → the switch it turns on (the config model's attribute, the setting's old key).
SKIP_WORDS: dict[str, str] = {
    "title": "skip_title",
    "summary": "skip_summary",
    "tagline": "skip_tagline",
    "date": "skip_date",
    "studio": "skip_studio",
    "performers": "skip_performers",
    "tags": "skip_tags",
    "rating": "skip_rating",
    "director": "skip_director",
    "poster": "skip_poster",
    "background": "skip_background",
    "collections": "skip_collections",
    "collection posters": "skip_collection_posters",
}
EXTRA_WORDS: dict[str, str] = {
    "sort titles": "write_sort_title",
    "file name titles": "title_from_filename",
    "group collections": "group_collections",
    "scan new files": "trigger_plex_scan",
}
_SEPARATORS = re.compile(r"[,;\n]")


def _normal(word: str) -> str:
    """Case, ``_``/``-`` for spaces and a plural ``s`` do not matter: ``Collection_Posters`` = ``collection poster``."""
    parts = re.sub(r"[\s_-]+", " ", word.strip().lower()).split(" ")
    return " ".join(part[:-1] if part.endswith("s") and len(part) > 3 else part for part in parts if part)


def listed_switches(key: str, text: str, words: dict[str, str]) -> frozenset[str]:
    """``"tagline, Rating"`` → ``{"skip_tagline", "skip_rating"}``; ValueError names the setting, the unknown
    word, the closest known one and the whole list."""
    spelled = {_normal(word): word for word in words}
    chosen, unknown = set(), []
    for raw in _SEPARATORS.split(text or ""):
        if raw.strip() and _normal(raw) in spelled:
            chosen.add(words[spelled[_normal(raw)]])
        elif raw.strip():
            unknown.append(raw.strip())
    if unknown:
        guess = difflib.get_close_matches(_normal(unknown[0]), list(spelled), n=1, cutoff=0.6)
        hint = f" (did you mean {spelled[guess[0]]!r}?)" if guess else ""
        raise ValueError(f"{mention(key)}: {', '.join(map(repr, unknown))} is not one of {', '.join(words)}{hint}")
    return frozenset(chosen)


def words_for(switches: set[str] | frozenset[str], words: dict[str, str]) -> str:
    """The text that turns ``switches`` on, in the listing's order (an old setting's value written the new way)."""
    return ", ".join(word for word, switch in words.items() if switch in switches)


def split_content_rating(key: str, text: str) -> tuple[str, list[tuple[str, str]]]:
    """``"Softcore=R; Hardcore=XXX; X"`` → ("X", [("Softcore", "R"), ("Hardcore", "XXX")]): rules Tag=Rating in
    the user's order, and at most one plain rating for every scene no rule matches."""
    fallback, rules = "", []
    for raw in (text or "").replace("\n", ";").split(";"):
        part = raw.strip()
        if not part:
            continue
        tag, sep, rating = (piece.strip() for piece in part.partition("="))
        if not sep:
            if fallback:
                raise ValueError(f"{mention(key)}: {fallback!r} and {part!r} are both a rating for every scene; "
                                 f"keep one, and write rules as Tag=Rating (e.g. Softcore=R; Hardcore=XXX; X)")
            fallback = part
        elif not tag or not rating or "=" in rating:
            raise ValueError(f"{mention(key)}: rule {part!r} must be Tag=Rating (e.g. Softcore=R; Hardcore=XXX)")
        else:
            rules.append((tag, rating))
    return fallback, rules
