"""Text for Plex: the user's text unchanged except what cannot travel, limited by characters and by
percent-encoded size (values travel in the edit PUT's URL, see :mod:`validation.limits`).

What cannot travel: control characters (C0 and C1; tab and line breaks become spaces in one-line values and stay,
as ``\\n``, in the summary), lone surrogates (not encodable: the edit could never be sent) and U+FFFE/U+FFFF, which
XML 1.0 forbids: Plex would store them and then answer every listing that holds the item with XML no client
parses. Everything else reaches Plex as it is, with no normalisation (NFC would turn CJK compatibility ideographs
into other characters): zero width joiners and non-joiners, bidi marks, emoji tag sequences, special spaces.
Cuts fall on extended grapheme cluster boundaries (UAX #29, the ``regex`` package's ``\\X``), so a cut never
leaves half an emoji, a flag or a syllable.
"""

from __future__ import annotations

import functools
import re
import regex

from validation import limits

_ASCII_SPACE_RUN = re.compile(r"[ \t\n\r\v\f]+")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_GRAPHEME = regex.compile(r"\X", regex.DOTALL)
# Line breaks and separators become spaces or line breaks before the controls are dropped: dropping a tab, form
# feed or NEL would glue the words around it together ("col1\tcol2" → "col1col2").
_ONE_LINE = dict.fromkeys(map(ord, "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"), " ")
_MULTI_LINE = {**dict.fromkeys(map(ord, "\r\v\f\x1c\x1d\x1e\x85"), "\n"), ord("\x1f"): " "}
_ONE_LINE_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MULTI_LINE_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")  # keeps \t and \n
_TRAILING_SPACE = frozenset({" ", "\t", "\n"})


# What ``quote(…, safe='')`` leaves as it is (urllib.parse's always-safe set); every other byte becomes ``%XX``.
_UNQUOTED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def encoded_size(text: str) -> int:
    """Bytes ``text`` takes in an edit PUT's query string (plexapi's joinArgs quotes values with ``safe=''``),
    counted without building the quoted text (every scene of a Sync All measures each of its values)."""
    data = text.encode("utf-8")
    return len(data) + 2 * len(data.translate(None, _UNQUOTED))


def _graphemes_that_fit(text: str, limit: int, max_bytes: int | None) -> list[str]:
    """The leading grapheme clusters of ``text`` within ``limit`` characters and ``max_bytes`` encoded."""
    kept: list[str] = []
    chars = used = 0
    for match in _GRAPHEME.finditer(text):  # lazily: a huge text is read only as far as the cut
        cluster = match.group()
        chars += len(cluster)
        used += encoded_size(cluster)
        if chars > limit or (max_bytes is not None and used > max_bytes):
            break
        kept.append(cluster)
    return kept


def _break_near_end(clusters: list[str]) -> int:
    """How many clusters to keep so the cut falls at a paragraph, line or word break in the last fifth, else
    all of them."""
    floor = len(clusters) * 0.8
    for boundary in (("\n", "\n"), ("\n",), (" ",)):
        width = len(boundary)
        for at in range(len(clusters) - width, -1, -1):
            if at < floor:
                break
            if tuple(clusters[at:at + width]) == boundary:
                return at
    return len(clusters)


def cut(text: str, limit: int, max_bytes: int | None = None) -> str:
    """At most ``limit`` characters and ``max_bytes`` once percent-encoded, at a paragraph, line or word boundary
    when one is near, always at a grapheme cluster boundary."""
    if len(text) <= limit and (max_bytes is None or (len(text) <= max_bytes and encoded_size(text) <= max_bytes)):
        return text  # (every character costs at least one byte: a long text is never quoted whole)
    clusters = _graphemes_that_fit(text, limit, max_bytes)
    clusters = clusters[:_break_near_end(clusters)]
    while clusters and clusters[-1] in _TRAILING_SPACE:
        clusters.pop()
    return "".join(clusters)


def _blank(text: str) -> bool:
    """Nothing to show: empty or only (any kind of) white space."""
    return not text or text.isspace()


def clean_text(value: object, limit: int = limits.TITLE, max_bytes: int = limits.LINE_BYTES) -> str:
    """One line of text: line breaks and tabs to spaces, controls out, ASCII white space runs collapsed and
    trimmed, cut. Every other character is kept as it is."""
    if value is None:
        return ""
    text = _ONE_LINE_UNSAFE.sub("", str(value).translate(_ONE_LINE))
    text = _ASCII_SPACE_RUN.sub(" ", text).strip(" ")
    return "" if _blank(text) else cut(text, limit, max_bytes)


def clean_summary(value: object, max_bytes: int = limits.SUMMARY_BYTES) -> str:
    """Multi-line text: line endings to ``\\n``, controls other than tab and newline out, blank lines before the
    first line and white space at the end dropped. Indentation, blank lines and special spaces are kept."""
    if value is None:
        return ""
    text = _MULTI_LINE_UNSAFE.sub("", str(value).replace("\r\n", "\n").translate(_MULTI_LINE))
    text = _LEADING_BLANK_LINES.sub("", text).rstrip(" \t\n")
    return "" if _blank(text) else cut(text, len(text), max_bytes)  # each character costs a byte: bytes bind


def clean_tag(value: object) -> str:
    return _clean_tag_text(value) if isinstance(value, str) else clean_text(value, limits.TAG)


@functools.lru_cache(maxsize=8192)
def _clean_tag_text(text: str) -> str:
    """Performer, tag, studio and collection names repeat across a library: each is cleaned once per process
    (most of a Sync All's compare CPU went to cleaning the same few names again for every scene)."""
    return clean_text(text, limits.TAG)


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
