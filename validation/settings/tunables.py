"""The expert tunables (retries, timeouts, settle seconds, task minutes, play import interval, log format, path
obfuscation), not on Stash's settings page: a ``PLEXSYNC_<KEY>`` variable or a ``tunables.conf`` line.

The data folder's ``tunables.conf`` (``<key> = <value>`` lines) is for installs where Stash's environment is
hard to change (a NAS app, a Windows service); the variable wins over it. Both win over a value saved in Stash
under the same key (the page no longer shows one, so it cannot be the newer intent). Values are coerced and
checked with the page's settings.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Mapping

from validation.settings.names import ENV_PREFIX, PAGE_LABELS, TUNABLE_LABELS, TUNABLES_FILE


def tunables_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / TUNABLES_FILE


def read_tunables(data_dir: str | os.PathLike[str] | None,
                  environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """({key: text}, warnings): tunables.conf's lines, then the variables over them. An empty variable means
    "not set" (the file's value or the default applies)."""
    values, warnings = _read_file(tunables_path(data_dir)) if data_dir is not None else ({}, [])
    environ = os.environ if environ is None else environ
    for key in TUNABLE_LABELS:
        text = environ.get(ENV_PREFIX + key.upper(), "").strip()
        if text:
            values[key] = text
    return values, warnings


def _read_file(path: Path) -> tuple[dict[str, str], list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad's BOM is not part of the first name
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path} could not be read ({exc}); the tunables in it do not apply"]
    values: dict[str, str] = {}
    warnings: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith(("#", ";")):
            continue
        name, sep, value = entry.partition("=")
        key = name.strip().lower()
        if not sep:
            warnings.append(f"{path}, line {number}: {entry!r} is not name = value; ignored")
        elif key in TUNABLE_LABELS:
            values[key] = value.strip()
        elif key in PAGE_LABELS:
            warnings.append(f"{path}, line {number}: {key} is set on Stash's settings page, not here; ignored")
        else:
            guess = difflib.get_close_matches(key, list(TUNABLE_LABELS), n=1, cutoff=0.6)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            warnings.append(f"{path}, line {number}: unknown tunable {key!r} ignored{hint}; known: "
                            f"{', '.join(TUNABLE_LABELS)}")
    return values, warnings
