"""PlexSync's settings: read from Stash (or PLEXSYNC_* variables), coerced, defaulted, validated.

Stash stores no defaults (its strict yml loader rejects ``default:``), sends NUMBER settings as int or float and
task ``defaultArgs`` as strings, and leaves a plugin out entirely until something is saved. Every rule for that
lives here, and every error names the setting.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

FALLBACK_PLUGIN_ID = "PlexSync"
ENV_PREFIX = "PLEXSYNC_"
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", "f"})

# Setting toggle → the Plex fields it controls.
FIELD_TOGGLES: dict[str, tuple[str, ...]] = {
    "sync_title": ("title",),
    "sync_summary": ("summary",),
    "sync_tagline": ("tagline",),
    "sync_date": ("originallyAvailableAt", "year"),
    "sync_studio": ("studio",),
    "sync_performers": ("actor",),
    "sync_tags": ("genre",),
    "sync_rating": ("userRating",),
    "sync_director": ("director",),
    "sync_poster": ("poster",),
    "sync_background": ("art",),
    "sync_collections": ("collection",),
}
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
BOOL_KEYS = frozenset(
    {"verify_tls", "enabled", "strict_matching", "preserve_plex_edits", "skip_not_found", "trigger_plex_scan",
     "debug_logging", "obfuscate_paths", *FIELD_TOGGLES,
     "import_plex_plays", "scrobble_stash_plays"}
)


class ConfigError(ValueError):
    """Settings PlexSync cannot run with; the message names each bad setting and how to fix it."""


def plugin_id_from_yml(plugin_dir: str | Path) -> str:
    """Stash's plugin id is the yml file's name, so a renamed install still finds its settings."""
    ymls = sorted(Path(plugin_dir).glob("*.yml"))
    candidates = [path.stem for path in ymls if path.stem.lower() not in ("mkdocs", "index")]
    return candidates[0] if candidates else FALLBACK_PLUGIN_ID


def coerce_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"{key}: expected true or false, got {value!r}")


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a number, got {value!r}") from None


def coerce_int(key: str, value: Any) -> int:
    number = _number(key, value)
    if not number.is_integer():
        raise ValueError(f"{key}: expected a whole number, got {value!r}")
    low, high = INT_BOUNDS[key]
    if not low <= number <= high:
        raise ValueError(f"{key}: must be between {low} and {high}, got {value!r}")
    return int(number)


def coerce_float(key: str, value: Any) -> float:
    number = _number(key, value)
    low, high = FLOAT_BOUNDS[key]
    if not low <= number <= high:
        raise ValueError(f"{key}: must be between {low:g} and {high:g}, got {value!r}")
    return number


class PlexSyncConfig(BaseModel):
    """Every setting of the plugin contract, with PlexSync's defaults (Stash has none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plex_url: str
    plex_token: SecretStr
    plex_library: str = ""
    path_map: str = ""
    verify_tls: bool = True
    enabled: bool = True
    sync_title: bool = True
    sync_summary: bool = True
    sync_tagline: bool = True
    sync_date: bool = True
    sync_studio: bool = True
    sync_performers: bool = True
    sync_tags: bool = True
    sync_rating: bool = True
    sync_director: bool = True
    sync_poster: bool = True
    sync_background: bool = True
    sync_collections: bool = True
    strict_matching: bool = True
    preserve_plex_edits: bool = False
    skip_not_found: bool = False
    trigger_plex_scan: bool = False
    max_retries: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_tags: int = 100
    settle_seconds: float = 5.0
    max_task_minutes: int = 60
    log_format: Literal["text", "json"] = "text"
    debug_logging: bool = False
    obfuscate_paths: bool = False
    import_plex_plays: bool = False  # plays from Plex into Stash (worker/plays.py)
    plex_play_accounts: str = ""
    import_plays_minutes: int = 15
    scrobble_stash_plays: bool = False

    @field_validator("plex_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"plex_url: must start with http:// or https://, got {value!r}")
        return value

    @field_validator("plex_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("plex_token: is empty")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("path_map")
    @classmethod
    def _path_map(cls, value: str) -> str:
        parse_path_map(value)  # a malformed rule fails here, naming it, not later in the worker
        return value

    def token(self) -> str:
        return self.plex_token.get_secret_value()

    @property
    def path_rules(self) -> list[tuple[str, str]]:
        return parse_path_map(self.path_map)

    @property
    def library_names(self) -> list[str]:
        return [name.strip() for name in self.plex_library.split(",") if name.strip()]

    @property
    def timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def enabled_fields(self) -> frozenset[str]:
        return frozenset(field for toggle, fields in FIELD_TOGGLES.items() if getattr(self, toggle) for field in fields)


def parse_path_map(text: str) -> list[tuple[str, str]]:
    """``"/stash/a=/plex/a; D:\\Videos=/mnt/v"`` → rules, longest Stash prefix first."""
    rules = []
    for raw in text.replace("\n", ";").split(";"):
        rule = raw.strip()
        if not rule:
            continue
        stash_side, sep, plex_side = rule.partition("=")
        if not sep or not stash_side.strip() or not plex_side.strip():
            raise ValueError(f"path_map: rule {rule!r} must look like /stash/prefix=/plex/prefix")
        rules.append((stash_side.strip(), plex_side.strip()))
    return sorted(rules, key=lambda pair: len(pair[0]), reverse=True)


_COERCERS = {
    **{key: coerce_bool for key in BOOL_KEYS},
    **{key: coerce_int for key in INT_BOUNDS},
    **{key: coerce_float for key in FLOAT_BOUNDS},
}
_MISSING_MESSAGES = {
    "plex_url": "Plex URL is not set: add plex_url in Settings → Plugins → PlexSync (e.g. http://192.168.1.10:32400)",
    "plex_token": "Plex token is not set: add plex_token in Settings → Plugins → PlexSync",
}


def _coerce(raw: Mapping[str, Any], known: set[str]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in known or value is None:
            continue
        if isinstance(value, str) and not value.strip() and key in _COERCERS:
            continue  # an emptied number or switch (``PLEXSYNC_VERIFY_TLS=``) means "use the default"
        coercer = _COERCERS.get(key)
        try:
            values[key] = coercer(key, value) if coercer else (value.strip() if isinstance(value, str) else value)
        except ValueError as exc:
            problems.append(str(exc))
    for key, message in _MISSING_MESSAGES.items():
        if not str(values.get(key) or "").strip():
            problems.append(message)
    return values, problems


def _unknown_key_warnings(raw: Mapping[str, Any], known: set[str]) -> list[str]:
    warnings = []
    for key in raw:
        if key in known:
            continue
        guess = difflib.get_close_matches(str(key).lower(), sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        warnings.append(f"Unknown PlexSync setting {key!r} ignored{hint}")
    return warnings


def load_config(raw: Mapping[str, Any] | None) -> tuple[PlexSyncConfig, list[str]]:
    """Validated settings plus warnings; ConfigError lists every bad setting (never the token's value)."""
    raw = dict(raw or {})
    known = set(PlexSyncConfig.model_fields)
    values, problems = _coerce(raw, known)
    try:
        config = PlexSyncConfig(**values)
    except ValidationError as exc:
        for error in exc.errors(include_input=False):
            name = ".".join(map(str, error["loc"]))
            if error["type"] == "missing" and name in _MISSING_MESSAGES:
                continue  # already said, in words a user can act on
            problems.append(str(error.get("ctx", {}).get("error") or f"{name}: {error['msg']}"))
    if problems:
        raise ConfigError("PlexSync settings need attention: " + "; ".join(problems))
    return config, _unknown_key_warnings(raw, known)


def config_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``PLEXSYNC_PLEX_URL=…`` → ``{"plex_url": …}`` for every known setting (the command line's source)."""
    known = set(PlexSyncConfig.model_fields)
    found = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX):].lower()
            if key in known:
                found[key] = value
    return found
