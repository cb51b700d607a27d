"""Setting values as Stash and the other sources send them, coerced; every error names the setting as its reader
sees it (validation.settings.names).

Stash stores NUMBER settings as int or float and task ``defaultArgs`` as strings; environment variables and
tunables.conf are text.
"""

from __future__ import annotations

from typing import Any

from validation.settings.names import mention

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", "f"})
INT_BOUNDS = {
    "max_retries": (1, 50),
    "max_tags": (1, 1000),
    "max_task_minutes": (1, 1440),
    "import_plays_minutes": (1, 1440),
}
FLOAT_BOUNDS = {
    "connect_timeout": (0.1, 300.0),
    "read_timeout": (0.1, 600.0),
    "settle_seconds": (0.0, 3600.0),
}


def coerce_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{mention(key)}: expected true or false, got {value!r}")


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{mention(key)}: expected a number, got {value!r}")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{mention(key)}: expected a number, got {value!r}") from None


def coerce_int(key: str, value: Any) -> int:
    number = _number(key, value)
    if not number.is_integer():
        raise ValueError(f"{mention(key)}: expected a whole number, got {value!r}")
    low, high = INT_BOUNDS[key]
    if not low <= number <= high:
        raise ValueError(f"{mention(key)}: must be between {low} and {high}, got {value!r}")
    return int(number)


def coerce_float(key: str, value: Any) -> float:
    number = _number(key, value)
    low, high = FLOAT_BOUNDS[key]
    if not low <= number <= high:
        raise ValueError(f"{mention(key)}: must be between {low:g} and {high:g}, got {value!r}")
    return number
