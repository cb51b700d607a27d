"""Log lines on Stash's stderr wire, with secrets redacted.

Stash reads a raw plugin's stderr line by line: ``\\x01`` + level byte + ``\\x02`` + text.
A line over 64 KiB stops Stash's reader for good, so every line is cut under 60,000 bytes.
Multi-line messages (tracebacks) get one prefixed line each. Progress is ``\\x01p\\x02<0..1>``.

Standard library only: the hook path imports this module.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from typing import IO, NamedTuple

LOGGER_NAME = "plexsync"
MAX_LINE_BYTES = 60_000
TRUNCATION_MARK = " …[cut]"
_LEVEL_BYTE = {
    logging.DEBUG: "d",
    logging.INFO: "i",
    logging.WARNING: "w",
    logging.ERROR: "e",
    logging.CRITICAL: "e",
}
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

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

# With log_format json every line is one object whose "event" names what happened (docs/troubleshoot.md,
# "Log events"); lines that are no named outcome carry "log". Extra fields ride on the record (``event``).
DEFAULT_EVENT = "log"

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


def quiet_insecure_warnings() -> None:
    """Unverified HTTPS (chosen by the user, or to Stash on loopback) makes urllib3 warn on every request:
    two unformatted stderr lines each, which Stash logs as errors, thousands in one sync."""
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings("ignore", category=InsecureRequestWarning)


def event(name: str, **fields: object) -> dict[str, object]:
    """``log.info(..., extra=event("scene.synced", scene_id=7))``: names the line for ``log_format: json``."""
    return {"event": name, "event_fields": fields}


def json_line(record: logging.LogRecord, text: str) -> str:
    """One JSON object: event, time, level, logger, message, then the event's own fields."""
    payload: dict[str, object] = {
        "event": getattr(record, "event", DEFAULT_EVENT),
        "ts": round(record.created, 3),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": redact(text),
    }
    for key, value in (getattr(record, "event_fields", None) or {}).items():
        if key not in payload:
            payload[key] = redact(value) if isinstance(value, str) else value
    return json.dumps(payload, ensure_ascii=False)


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


class StashWireHandler(logging.Handler):
    """Writes records in Stash's stderr format (or as JSON objects inside that format)."""

    def __init__(self, stream: IO[str] | None = None, json_format: bool = False) -> None:
        super().__init__()
        self._stream = stream
        self.json_format = json_format

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def format_message(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return json_line(record, text) if self.json_format else text

    def emit(self, record: logging.LogRecord) -> None:
        level_byte = "t" if record.levelno <= TRACE else _LEVEL_BYTE.get(record.levelno, "i")
        try:
            write_utf8(self.stream, "".join(wire_lines(level_byte, self.format_message(record))))
        except (BrokenPipeError, ValueError, OSError):
            # Stash closed our stderr (or the file is gone): losing a log line must not lose work.
            pass


class FileLineHandler(StashWireHandler):
    """Plain timestamped lines for the detached worker's own log file; with json, one object a line (it
    carries its own time)."""

    def emit(self, record: logging.LogRecord) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        try:
            if self.json_format:
                self.stream.write(cut_to_bytes(redact(self.format_message(record))) + "\n")
                self.stream.flush()
                return
            for line in redact(self.format_message(record)).splitlines():
                self.stream.write(f"{stamp} {record.levelname:<7} {cut_to_bytes(line)}\n")
            self.stream.flush()
        except (ValueError, OSError):
            pass


class TerminalLineHandler(StashWireHandler):
    """Plain lines for a person at a command line: ``HH:MM:SS message`` (the level named when not Info).
    On a terminal the line first clears whatever a progress bar left on it."""

    def emit(self, record: logging.LogRecord) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        try:
            clear = "\r\x1b[K" if self.stream.isatty() else ""
            for line in redact(self.format_message(record)).splitlines():
                self.stream.write(f"{clear}{stamp} {level}{cut_to_bytes(line)}\n")
                clear = ""
            self.stream.flush()
        except (ValueError, OSError):
            pass


class _CommandLine(NamedTuple):
    stream: IO[str]
    level: int


_command_line: _CommandLine | None = None


def use_command_line(stream: IO[str], level: int = logging.INFO) -> None:
    """This process is the command line: every later ``configure`` (settings loaders call it again) keeps
    writing plain lines to ``stream`` at ``level`` instead of switching back to Stash's wire format."""
    global _command_line
    _command_line = _CommandLine(stream, level)


def configure(
    *,
    stream: IO[str] | None = None,
    debug: bool = False,
    json_format: bool = False,
    plain_file: IO[str] | None = None,
) -> logging.Logger:
    """Route the ``plexsync`` logger to Stash's wire (or a plain file, or the command line); idempotent."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    level = logging.DEBUG if debug else logging.INFO
    if plain_file is not None:
        handler: logging.Handler = FileLineHandler(plain_file, json_format=json_format)
    elif stream is None and _command_line is not None:
        handler = TerminalLineHandler(_command_line.stream, json_format=json_format)
        level = min(level, _command_line.level) if debug else _command_line.level
    else:
        handler = StashWireHandler(stream, json_format=json_format)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


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
