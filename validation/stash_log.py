"""Log lines on Stash's stderr wire, with secrets redacted: the ``logging`` set-up of tasks, the worker and the
command line.

The wire format, redaction and progress live in ``validation.stash_wire`` (the hook's logging-free part) and
are re-exported here.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, NamedTuple

from validation.stash_wire import (LOGGER_NAME, MAX_LINE_BYTES, MIN_SECRET_LENGTH, TRUNCATION_MARK,  # noqa: F401
                                   WIRE_OVERHEAD_BYTES, cut_to_bytes, progress, redact, register_secret,
                                   set_path_obfuscation, wire_lines, write_utf8)
from validation.stash_wire import emit as emit_wire

_LEVEL_BYTE = {
    logging.DEBUG: "d",
    logging.INFO: "i",
    logging.WARNING: "w",
    logging.ERROR: "e",
    logging.CRITICAL: "e",
}
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

# With log_format json every line is one object whose "event" names what happened (docs/troubleshoot.md,
# "Log events"); lines that are no named outcome carry "log". Extra fields ride on the record (``event``).
DEFAULT_EVENT = "log"


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
        emit_wire(level_byte, self.format_message(record), self.stream)


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


def on_command_line() -> bool:
    """Whether :func:`use_command_line` made this process the command line (messages then name flags)."""
    return _command_line is not None


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
