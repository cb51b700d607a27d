"""Text cleaning for Plex: NFC, no control/format characters, sane whitespace, limits by characters."""

from __future__ import annotations

import re
import unicodedata

from validation import limits

_SPACE_RUN = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _drop_invisible(text: str, keep: str = "") -> str:
    """Remove control (Cc) and format (Cf: zero-width, bidi marks, BOM) characters, except those in ``keep``."""
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf"))


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, at a word boundary when one is near, never inside a grapheme's marks."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    while head and unicodedata.combining(text[len(head)]):
        head = head[:-1]  # never keep a base character without the marks that follow it
    space = head.rfind(" ")
    if space >= limit * 0.8:
        head = head[:space]
    return head.rstrip()


def clean_text(value: object, limit: int = limits.TITLE) -> str:
    """One line of text: NFC, invisible characters out, whitespace runs collapsed, trimmed, cut."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _drop_invisible(text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return cut(_SPACE_RUN.sub(" ", text).strip(), limit)


def clean_summary(value: object, limit: int = limits.SUMMARY) -> str:
    """Multi-line text: paragraphs kept (at most one blank line between them), each line cleaned."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _drop_invisible(text, keep="\n")
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return cut(text, limit)


def clean_tag(value: object) -> str:
    return clean_text(value, limits.TAG)


def unique_names(names: list[str], limit: int | None = None) -> list[str]:
    """Cleaned, empty ones dropped, de-duplicated case-insensitively keeping the first spelling and order."""
    seen: set[str] = set()
    out = []
    for name in names:
        cleaned = clean_tag(name)
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            out.append(cleaned)
            if limit is not None and len(out) >= limit:
                break
    return out
