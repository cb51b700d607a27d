"""Text cleaning for Plex: NFC, no control/format characters, sane whitespace, limits by characters and by
percent-encoded size (values travel in the edit PUT's URL, see :mod:`validation.limits`)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from validation import limits

_SPACE_RUN = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Separators become spaces or line breaks before invisible characters are dropped: dropping a tab, form feed or
# line separator would glue the words around it together ("col1\tcol2" → "col1col2").
_SPACES = dict.fromkeys(map(ord, "\t\v\f\x1c\x1d\x1e\x1f"), " ")
_ONE_LINE = {**_SPACES, **dict.fromkeys(map(ord, "\r\n\x85\u2028\u2029"), " ")}
_MULTI_LINE = {**_SPACES, ord("\x85"): "\n", ord("\u2028"): "\n", ord("\u2029"): "\n\n"}  # U+2029: a paragraph


def _drop_invisible(text: str, keep: str = "") -> str:
    """Remove control (Cc), format (Cf: zero-width, bidi marks, BOM) and lone surrogate (Cs: not encodable, the
    edit could never be sent) characters, except those in ``keep``."""
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))


def encoded_size(text: str) -> int:
    """Bytes ``text`` takes in an edit PUT's query string (plexapi's joinArgs quotes values with ``safe=''``)."""
    return len(quote(text, safe=""))


def _fitting(text: str, max_bytes: int | None) -> int:
    """How many leading characters of ``text`` fit in ``max_bytes`` once percent-encoded."""
    if max_bytes is None or encoded_size(text) <= max_bytes:
        return len(text)
    used = 0
    for index, char in enumerate(text):
        used += encoded_size(char)
        if used > max_bytes:
            return index
    return len(text)


def cut(text: str, limit: int, max_bytes: int | None = None) -> str:
    """At most ``limit`` characters and ``max_bytes`` once percent-encoded, at a paragraph, line or word boundary
    when one is near, never inside a grapheme's marks."""
    end = min(limit, _fitting(text, max_bytes))
    if end >= len(text):
        return text
    while end and unicodedata.combining(text[end]):
        end -= 1  # never keep a base character without the marks that follow it
    head = text[:end]
    for boundary in ("\n\n", "\n", " "):
        at = head.rfind(boundary)
        if at >= end * 0.8:
            return head[:at].rstrip()
    return head.rstrip()


def clean_text(value: object, limit: int = limits.TITLE, max_bytes: int = limits.LINE_BYTES) -> str:
    """One line of text: NFC, separators to spaces, invisible characters out, whitespace runs collapsed,
    trimmed, cut."""
    if value is None:
        return ""
    text = _drop_invisible(unicodedata.normalize("NFC", str(value)).translate(_ONE_LINE))
    return cut(_SPACE_RUN.sub(" ", text).strip(), limit, max_bytes)


def clean_summary(value: object, max_bytes: int = limits.SUMMARY_BYTES) -> str:
    """Multi-line text: paragraphs kept (at most one blank line between them), each line cleaned."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _drop_invisible(text.translate(_MULTI_LINE), keep="\n")
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return cut(text, len(text), max_bytes)  # every character costs at least one byte: the bytes bind


def clean_tag(value: object) -> str:
    return clean_text(value, limits.TAG)


def unique_names(names: list[str], limit: int | None = None) -> list[str]:
    """Cleaned (each name within the one-line caps), empty ones dropped, de-duplicated case-insensitively keeping
    the first spelling and order; at most ``limit`` names."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        cleaned = clean_tag(name)
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            out.append(cleaned)
            if limit is not None and len(out) >= limit:
                break
    return out
