"""PlexSync's settings: read from Stash (or PLEXSYNC_* variables), coerced, defaulted, validated.

Stash stores no defaults (its strict yml loader rejects ``default:``), sends NUMBER settings as int or float and
task ``defaultArgs`` as strings, and leaves a plugin out entirely until something is saved. Every rule for that
lives here, and every error names the setting.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from validation.metadata_extras import parse_rating_tags

FALLBACK_PLUGIN_ID = "PlexSync"
ENV_PREFIX = "PLEXSYNC_"
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", "f"})

# Field switch → the Plex fields it keeps PlexSync from writing. Every BOOLEAN setting means false by default
# (Stash shows a never-saved switch as off), so each switch is named for what it stops.
FIELD_TOGGLES: dict[str, tuple[str, ...]] = {
    "skip_title": ("title",),
    "skip_summary": ("summary",),
    "skip_tagline": ("tagline",),
    "skip_date": ("originallyAvailableAt", "year"),
    "skip_studio": ("studio",),
    "skip_performers": ("actor",),
    "skip_tags": ("genre",),
    "skip_rating": ("userRating",),
    "skip_director": ("director",),
    "skip_poster": ("poster",),
    "skip_background": ("art",),
    "skip_collections": ("collection",),
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
    {"skip_tls_verify", "pause_sync", "loose_matching", "preserve_plex_edits", "skip_not_found", "trigger_plex_scan",
     "debug_logging", "obfuscate_paths", *FIELD_TOGGLES,
     "import_plex_plays", "scrobble_stash_plays", "title_from_filename", "write_sort_title", "group_collections",
     "photo_urls_with_api_key", "skip_collection_posters", "ratings_from_plex"}
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


class _Opposite:
    """A read-only view of a switch under its positive name: ``config.sync_poster`` is ``not config.skip_poster``,
    so code reads the way it thinks while every setting a user sees defaults to off."""

    def __init__(self, switch: str) -> None:
        self.switch = switch

    def __get__(self, config: Any, owner: type | None = None) -> Any:
        return self if config is None else not getattr(config, self.switch)


class PlexSyncConfig(BaseModel):
    """Every setting of the plugin contract, with PlexSync's defaults (Stash has none). Each field's description
    is its display name in PlexSync.yml (the command line's help shows it; a test keeps them equal)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(_Opposite,))

    plex_url: str = Field(description="Plex URL")
    plex_token: SecretStr = Field(description="Plex token")
    plex_library: str = Field("", description="Plex libraries")
    path_map: str = Field("", description="Path map")
    pause_sync: bool = Field(False, description="Pause syncing")
    skip_tls_verify: bool = Field(False, description="Don't verify Plex's TLS certificate (self-signed only)")
    skip_title: bool = Field(False, description="Don't write the title")
    skip_summary: bool = Field(False, description="Don't write the summary")
    skip_tagline: bool = Field(False, description="Don't write the tagline")
    skip_date: bool = Field(False, description="Don't write the date")
    skip_studio: bool = Field(False, description="Don't write the studio")
    skip_performers: bool = Field(False, description="Don't write the performers")
    skip_tags: bool = Field(False, description="Don't write the tags")
    skip_rating: bool = Field(False, description="Don't write the rating")
    skip_director: bool = Field(False, description="Don't write the director")
    skip_poster: bool = Field(False, description="Don't upload the poster")
    skip_background: bool = Field(False, description="Don't upload the background")
    skip_collections: bool = Field(False, description="Don't add studio collections")
    loose_matching: bool = Field(False, description="Pick the closest match when files look alike")
    preserve_plex_edits: bool = Field(False, description="Preserve Plex edits")
    skip_not_found: bool = Field(False, description="Skip scenes not in Plex")
    trigger_plex_scan: bool = Field(False, description="Ask Plex to scan new files")
    max_retries: int = Field(5, description="Max retries")
    connect_timeout: float = Field(5.0, description="Connect timeout (s)")
    read_timeout: float = Field(30.0, description="Read timeout (s)")
    max_tags: int = Field(100, description="Max tags")
    settle_seconds: float = Field(5.0, description="Settle seconds")
    max_task_minutes: int = Field(60, description="Max task minutes")
    log_format: Literal["text", "json"] = Field("text", description="Log format")
    debug_logging: bool = Field(False, description="Debug logging")
    obfuscate_paths: bool = Field(False, description="Obfuscate paths")
    import_plex_plays: bool = Field(False, description="Import Plex plays automatically")  # worker/plays.py
    plex_play_accounts: str = Field("", description="Plex accounts whose plays to import")
    import_plays_minutes: int = Field(15, description="Play import interval (minutes)")
    scrobble_stash_plays: bool = Field(False, description="Mark Stash plays watched in Plex")
    ratings_from_plex: bool = Field(False, description="Import ratings from Plex")  # worker/ratings.py
    title_from_filename: bool = Field(False, description="Title from the file name when Stash has none")
    write_sort_title: bool = Field(False, description="Sort titles without a leading date or article")
    content_rating: str = Field("", description="Content rating")
    content_rating_tags: str = Field("", description="Content rating from tags")
    collection_tags: str = Field("", description="Tags that become collections")
    group_collections: bool = Field(False, description="Add group collections")
    stash_url_for_plex: str = Field("", description="Stash URL as Plex can reach it (performer photos)")
    photo_urls_with_api_key: bool = Field(False, description="Put Stash's API key into photo URLs stored in Plex")
    skip_collection_posters: bool = Field(False, description="Don't upload collection posters")

    # The old, positive names, read-only: the rest of the code keeps reading them.
    enabled = _Opposite("pause_sync")
    verify_tls = _Opposite("skip_tls_verify")
    strict_matching = _Opposite("loose_matching")
    sync_title = _Opposite("skip_title")
    sync_summary = _Opposite("skip_summary")
    sync_tagline = _Opposite("skip_tagline")
    sync_date = _Opposite("skip_date")
    sync_studio = _Opposite("skip_studio")
    sync_performers = _Opposite("skip_performers")
    sync_tags = _Opposite("skip_tags")
    sync_rating = _Opposite("skip_rating")
    sync_director = _Opposite("skip_director")
    sync_poster = _Opposite("skip_poster")
    sync_background = _Opposite("skip_background")
    sync_collections = _Opposite("skip_collections")

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

    @field_validator("content_rating_tags")
    @classmethod
    def _rating_tags(cls, value: str) -> str:
        parse_rating_tags(value)  # a malformed rule fails here, naming it
        return value

    @field_validator("stash_url_for_plex")
    @classmethod
    def _stash_url_for_plex(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.lower().startswith(("http://", "https://")) or "?" in value or "#" in value):
            raise ValueError(f"stash_url_for_plex: must be Stash's address as Plex reaches it, starting with http:// "
                             f"or https:// (e.g. http://192.168.1.10:9999), got {value!r}")
        return value

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
        fields = {field for skip, fields in FIELD_TOGGLES.items() if not getattr(self, skip) for field in fields}
        if self.write_sort_title and "title" in fields:
            fields.add("titleSort")
        if self.content_rating.strip() or self.content_rating_tags.strip():
            fields.add("contentRating")
        return frozenset(fields)


_PATH_MAP_FIX = "write Stash prefix=Plex prefix, rules separated by ';' (e.g. /data=/media; /more=/mnt/more)"
_ABSOLUTE = re.compile(r"^(?:/|\\\\|[A-Za-z]:(?:[\\/]|$))")  # /x, \\server\share, D:\ or D:


def parse_path_map(text: str) -> list[tuple[str, str]]:
    """``"/stash/a=/plex/a; D:\\Videos=/mnt/v"`` → rules, longest Stash prefix first.

    Rules are separated by ``;`` or line breaks. A comma list (the separator ``plex_library`` uses) is accepted
    when every part is a whole rule between absolute paths; anything else with more than one ``=`` in a rule is
    an error naming the fix, never one rule whose Plex side swallowed the next rule."""
    rules = []
    for raw in text.replace("\n", ";").split(";"):
        rule = raw.strip()
        if rule:
            rules.extend(_path_rules(rule))
    return sorted(rules, key=lambda pair: len(pair[0]), reverse=True)


def _path_rules(rule: str) -> list[tuple[str, str]]:
    if rule.count("=") > 1:
        parts = [_path_rule(part) for part in rule.split(",")]
        if all(part and all(_ABSOLUTE.match(side) for side in part) for part in parts):
            return [part for part in parts if part]
        raise ValueError(f"path_map: {rule!r} holds {rule.count('=')} rules or a stray '=' (a ',' list works "
                         f"only when every part is a whole rule between absolute paths); {_PATH_MAP_FIX}")
    pair = _path_rule(rule)
    if pair is None:
        raise ValueError(f"path_map: rule {rule!r} has no Stash side, no Plex side or no '='; {_PATH_MAP_FIX}")
    return [pair]


def _path_rule(text: str) -> tuple[str, str] | None:
    stash_side, sep, plex_side = text.partition("=")
    stash_side, plex_side = stash_side.strip(), plex_side.strip()
    if not sep or not stash_side or not plex_side or "=" in plex_side:
        return None
    return stash_side, plex_side


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
            continue  # an emptied number or switch (``PLEXSYNC_SKIP_POSTER=``) means "use the default"
        coercer = _COERCERS.get(key)
        try:
            values[key] = coercer(key, value) if coercer else (value.strip() if isinstance(value, str) else value)
        except ValueError as exc:
            problems.append(str(exc))
    for key, message in _MISSING_MESSAGES.items():
        if not str(values.get(key) or "").strip():
            problems.append(message)
    return values, problems


def _closest(key: str, known: set[str]) -> str | None:
    guess = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.6)
    return guess[0] if guess else None


def _unknown_key_warnings(raw: Mapping[str, Any], known: set[str]) -> list[str]:
    warnings = []
    for key in raw:
        if key in known:
            continue
        guess = _closest(str(key), known)
        hint = f" (did you mean {guess!r}?)" if guess else ""
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


def unknown_env_warnings(environ: Mapping[str, str], other_variables: frozenset[str] = frozenset()) -> list[str]:
    """The same "did you mean" warning as an unknown ``--set`` key, for ``PLEXSYNC_*`` variables that are neither
    a setting nor one of ``other_variables`` (the command line's own, e.g. ``PLEXSYNC_DATA_DIR``)."""
    known = set(PlexSyncConfig.model_fields) | {name[len(ENV_PREFIX):].lower() for name in other_variables}
    warnings = []
    for name in sorted(environ):
        key = name[len(ENV_PREFIX):].lower()
        if name.startswith(ENV_PREFIX) and key not in known:
            guess = _closest(key, known)
            hint = f" (did you mean {ENV_PREFIX}{guess.upper()}?)" if guess else ""
            warnings.append(f"Unknown PlexSync environment variable {name} ignored{hint}")
    return warnings
