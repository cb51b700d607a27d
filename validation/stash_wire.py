"""Stash's stderr wire without ``logging``: the line format, secret redaction and a direct writer.

Stash reads a raw plugin's stderr line by line: ``\\x01`` + level byte + ``\\x02`` + text.
A line over 64 KiB stops Stash's reader for good, so every line is cut under 60,000 bytes.
Multi-line messages (tracebacks) get one prefixed line each. Progress is ``\\x01p\\x02<0..1>``.

The hook imports this and never ``logging`` (its import and set-up are a cost every save would pay):
:class:`WireLog` writes straight to the wire unless this process set up the ``plexsync`` logger
(``validation.stash_log``), which then gets the line (the detached worker's log file, a task's format).
"""

from __future__ import annotations

import math
import re
import sys

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import IO

LOGGER_NAME = "plexsync"
MAX_LINE_BYTES = 60_000
TRUNCATION_MARK = " …[cut]"
# Tokens travel in query strings (``token=…``), quoted in dumped headers or JSON (``'X-Plex-Token': '…'``)
# and in a header line (``X-Plex-Token: …``). Prose that merely follows the word ("check plex_token: (401)
# unauthorized") is no secret: an unquoted value after a colon is masked only for the header's own name.
_SECRET_NAME = r"(?:X-Plex-Token|api_?key|apikey|token)"
_TOKEN_PATTERNS = (
    re.compile(rf"({_SECRET_NAME}=)[^&\s'\",}}]+", re.IGNORECASE),
    re.compile(rf"({_SECRET_NAME}['\"]?\s*[=:]\s*['\"])[^'\"]+", re.IGNORECASE),
    re.compile(r"(X-Plex-Token:[ \t]*)[\w.~+/-]+", re.IGNORECASE),
)
MIN_SECRET_LENGTH = 8  # a shorter (wrong, or empty) token would mask ordinary text such as "(401)"
_PATH_PATTERN = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s'\",;]+){2,}")

_secrets: set[str] = set()
_obfuscate_paths = False


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line (the Plex token, a Stash API key)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _secrets.add(value)


def set_path_obfuscation(enabled: bool) -> None:
    global _obfuscate_paths
    _obfuscate_paths = bool(enabled)


def _hide_path(match: re.Match[str]) -> str:
    import hashlib  # here: only obfuscate_paths needs it, and OpenSSL's load is a hook's cost

    digest = hashlib.sha1(match.group(0).encode("utf-8", "replace")).hexdigest()[:10]
    return f"<path:{digest}>"


def redact(text: str) -> str:
    """Remove registered secrets, token-looking query parameters and (optionally) paths."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1***", text)
    if _obfuscate_paths:
        text = _PATH_PATTERN.sub(_hide_path, text)
    return text


def cut_to_bytes(line: str, limit: int = MAX_LINE_BYTES) -> str:
    """Cut ``line`` so its UTF-8 form stays under ``limit`` bytes, never mid-character."""
    raw = line.encode("utf-8", "replace")
    if len(raw) <= limit:
        return line
    mark = TRUNCATION_MARK.encode("utf-8")
    return raw[: limit - len(mark)].decode("utf-8", "ignore") + TRUNCATION_MARK


WIRE_OVERHEAD_BYTES = 4  # \x01, the level byte, \x02 and the newline


def wire_lines(level_byte: str, message: str) -> list[str]:
    """One Stash wire line per line of ``message``; empty lines are dropped as Stash does. Each whole line,
    prefix and newline included, stays under ``MAX_LINE_BYTES``."""
    out = []
    for line in redact(message).splitlines():
        if line.strip():
            out.append(f"\x01{level_byte}\x02{cut_to_bytes(line, MAX_LINE_BYTES - WIRE_OVERHEAD_BYTES)}\n")
    return out


def write_utf8(stream: IO[str], text: str) -> None:
    """Stash decodes our stderr as UTF-8 whatever the console's code page (cp1252 on a Windows pipe would
    turn "Café" into invalid UTF-8 and drop "日本" altogether): bytes go to the binary buffer when there is one."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # keep the order of anything already written as text
    buffer.write(text.encode("utf-8", "replace"))
    buffer.flush()


def progress(fraction: float, stream: IO[str] | None = None) -> None:
    """Report task progress; NaN/inf are dropped (Stash would pass them to its UI)."""
    if not math.isfinite(fraction):
        return
    value = min(1.0, max(0.0, fraction))
    target = stream if stream is not None else sys.stderr
    try:
        write_utf8(target, f"\x01p\x02{value:.4f}\n")
    except (BrokenPipeError, ValueError, OSError):
        pass


def emit(level_byte: str, message: str, stream: IO[str] | None = None) -> None:
    """``message`` as Stash wire lines at ``level_byte`` (``w``, ``e``, ...) on stderr; a closed pipe loses
    the line, never the work."""
    try:
        write_utf8(stream if stream is not None else sys.stderr, "".join(wire_lines(level_byte, message)))
    except (BrokenPipeError, ValueError, OSError):
        pass


class WireLog:
    """``warning``/``error`` of a ``plexsync.<name>`` logger for code the hook runs: through ``logging``
    when this process configured it, else straight to Stash's wire (no ``logging`` import)."""

    def __init__(self, name: str) -> None:
        self.name = f"{LOGGER_NAME}.{name}"

    def warning(self, message: str, *args: object) -> None:
        self._log("w", 30, message, args)  # logging.WARNING

    def error(self, message: str, *args: object) -> None:
        self._log("e", 40, message, args)  # logging.ERROR

    def _log(self, level_byte: str, level: int, message: str, args: tuple[object, ...]) -> None:
        logging = sys.modules.get("logging")  # imported by someone else already: costs nothing here
        if logging is not None and logging.getLogger(LOGGER_NAME).handlers:
            logging.getLogger(self.name).log(level, message, *args)
            return
        emit(level_byte, message % args if args else message)
