"""PlexSync's settings: read from Stash (or PLEXSYNC_* variables, or the data folder's tunables.conf), coerced,
defaulted, validated.

Stash stores no defaults (its strict yml loader rejects ``default:``), sends NUMBER settings as int or float and
task ``defaultArgs`` as strings, and leaves a plugin out entirely until something is saved. Every rule for that
lives here, and every error names the setting as its reader sees it (validation.settings.names). What the
settings page shows, and why it is laid out so, is in setting_names; keys of earlier versions in old_settings.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator

from validation.settings.old_keys import OLD_KEYS, translate
from validation.settings.names import ENV_PREFIX, LABELS, PAGE_LABELS, TUNABLE_LABELS, mention, where_to_set
from validation.settings.text import EXTRA_WORDS, SKIP_WORDS, listed_switches, split_content_rating
from validation.settings.values import (FALSE_WORDS, FLOAT_BOUNDS, INT_BOUNDS, TRUE_WORDS,  # noqa: F401
                                       coerce_bool, coerce_float, coerce_int)

FALLBACK_PLUGIN_ID = "PlexSync"
PAGE_KEYS = tuple(PAGE_LABELS)  # PlexSync.yml's settings, in the order Stash's page shows them
TUNABLE_KEYS = tuple(TUNABLE_LABELS)

# The switch (an attribute of the config) → the Plex fields it keeps PlexSync from writing.
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
# Every BOOLEAN setting means false by default (Stash shows a never-saved switch as off), so each is named for
# what it changes.
BOOL_KEYS = frozenset({"preserve_plex_edits", "ratings_from_plex", "scrobble_stash_plays", "skip_not_found",
                       "skip_tls_verify",
                       "stash_url_with_api_key", "sync_paused", "use_closest_match", "verbose_logging",
                       "watch_history_from_plex", "obfuscate_paths"})


class ConfigError(ValueError):
    """Settings PlexSync cannot run with; the message names each bad setting and how to fix it."""


def plugin_id_from_yml(plugin_dir: str | Path) -> str:
    """Stash's plugin id is the yml file's name, so a renamed install still finds its settings."""
    ymls = sorted(Path(plugin_dir).glob("*.yml"))
    candidates = [path.stem for path in ymls if path.stem.lower() not in ("mkdocs", "index")]
    return candidates[0] if candidates else FALLBACK_PLUGIN_ID


class _Same:
    """A read-only alias: ``config.pause_sync`` is ``config.sync_paused`` (the name the code was written with)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, config: Any, owner: type | None = None) -> Any:
        return self if config is None else getattr(config, self.name)


class _Opposite(_Same):
    """A switch under its positive name: ``config.sync_poster`` is ``not config.skip_poster``, so code reads the
    way it thinks while every setting a user sees defaults to off."""

    def __get__(self, config: Any, owner: type | None = None) -> Any:
        return self if config is None else not getattr(config, self.name)


class _Listed(_Same):
    """A switch folded into a text setting: ``config.skip_tagline`` is "tagline is in Fields PlexSync leaves
    alone", ``config.write_sort_title`` "sort titles is in Extras to turn on"."""

    def __get__(self, config: Any, owner: type | None = None) -> Any:
        return self if config is None else self.name in config._switches


def _label(key: str, default: Any = ...) -> Any:
    return Field(default, description=LABELS[key])


class PlexSyncConfig(BaseModel):
    """Every setting, with PlexSync's defaults (Stash has none): first the settings page's, in its order, then
    the expert tunables. Each field's description is its label (the command line's help shows it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(_Same,))

    path_map: str = _label("path_map", "")
    plex_library: str = _label("plex_library", "")
    plex_token: SecretStr = _label("plex_token")
    plex_url: str = _label("plex_url")
    preserve_plex_edits: bool = _label("preserve_plex_edits", False)
    ratings_from_plex: bool = _label("ratings_from_plex", False)  # worker/viewing/ratings.py
    scene_content_rating: str = _label("scene_content_rating", "")
    scrobble_stash_plays: bool = _label("scrobble_stash_plays", False)
    skip_fields: str = _label("skip_fields", "")
    skip_not_found: bool = _label("skip_not_found", False)
    skip_tls_verify: bool = _label("skip_tls_verify", False)
    stash_url_for_plex: str = _label("stash_url_for_plex", "")
    stash_url_with_api_key: bool = _label("stash_url_with_api_key", False)
    sync_paused: bool = _label("sync_paused", False)
    tag_collections: str = _label("tag_collections", "")
    use_closest_match: bool = _label("use_closest_match", False)
    verbose_logging: bool = _label("verbose_logging", False)
    watch_history_accounts: str = _label("watch_history_accounts", "")
    watch_history_from_plex: bool = _label("watch_history_from_plex", False)  # worker/viewing/plays.py
    with_extras: str = _label("with_extras", "")
    # expert tunables (validation.settings.tunables)
    max_retries: int = _label("max_retries", 5)
    connect_timeout: float = _label("connect_timeout", 5.0)
    read_timeout: float = _label("read_timeout", 30.0)
    max_tags: int = _label("max_tags", 100)
    settle_seconds: float = _label("settle_seconds", 5.0)
    max_task_minutes: int = _label("max_task_minutes", 60)
    import_plays_minutes: int = _label("import_plays_minutes", 15)
    log_format: Literal["text", "json"] = _label("log_format", "text")
    obfuscate_paths: bool = _label("obfuscate_paths", False)

    _switches: frozenset[str] = PrivateAttr(default=frozenset())
    _ratings: tuple[str, tuple[tuple[str, str], ...]] = PrivateAttr(default=("", ()))

    # The names the rest of the code reads (and the keys of earlier versions), read-only.
    pause_sync = _Same("sync_paused")
    enabled = _Opposite("sync_paused")
    verify_tls = _Opposite("skip_tls_verify")
    loose_matching = _Same("use_closest_match")
    strict_matching = _Opposite("use_closest_match")
    debug_logging = _Same("verbose_logging")
    import_plex_plays = _Same("watch_history_from_plex")
    plex_play_accounts = _Same("watch_history_accounts")
    photo_urls_with_api_key = _Same("stash_url_with_api_key")
    collection_tags = _Same("tag_collections")
    skip_title = _Listed("skip_title")
    skip_summary = _Listed("skip_summary")
    skip_tagline = _Listed("skip_tagline")
    skip_date = _Listed("skip_date")
    skip_studio = _Listed("skip_studio")
    skip_performers = _Listed("skip_performers")
    skip_tags = _Listed("skip_tags")
    skip_rating = _Listed("skip_rating")
    skip_director = _Listed("skip_director")
    skip_poster = _Listed("skip_poster")
    skip_background = _Listed("skip_background")
    skip_collections = _Listed("skip_collections")
    skip_collection_posters = _Listed("skip_collection_posters")
    title_from_filename = _Listed("title_from_filename")
    write_sort_title = _Listed("write_sort_title")
    group_collections = _Listed("group_collections")
    trigger_plex_scan = _Listed("trigger_plex_scan")
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

    def model_post_init(self, context: Any) -> None:
        self._switches = (listed_switches("skip_fields", self.skip_fields, SKIP_WORDS)
                          | listed_switches("with_extras", self.with_extras, EXTRA_WORDS))
        fallback, rules = split_content_rating("scene_content_rating", self.scene_content_rating)
        self._ratings = (fallback, tuple(rules))

    @field_validator("plex_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"{mention('plex_url')}: must start with http:// or https://, got {value!r}")
        return value

    @field_validator("plex_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(f"{mention('plex_token')}: is empty")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("path_map")
    @classmethod
    def _path_map(cls, value: str) -> str:
        parse_path_map(value)  # a malformed rule fails here, naming it, not later in the worker
        return value

    @field_validator("skip_fields")
    @classmethod
    def _skip_fields(cls, value: str) -> str:
        listed_switches("skip_fields", value, SKIP_WORDS)  # an unknown field fails here, naming the choices
        return value

    @field_validator("with_extras")
    @classmethod
    def _extras(cls, value: str) -> str:
        listed_switches("with_extras", value, EXTRA_WORDS)
        return value

    @field_validator("scene_content_rating")
    @classmethod
    def _rating(cls, value: str) -> str:
        split_content_rating("scene_content_rating", value)  # a malformed rule fails here, naming it
        return value

    @field_validator("stash_url_for_plex")
    @classmethod
    def _stash_url_for_plex(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.lower().startswith(("http://", "https://")) or "?" in value or "#" in value):
            raise ValueError(f"{mention('stash_url_for_plex')}: must be Stash's address as Plex reaches it, "
                             f"starting with http:// or https:// (e.g. http://192.168.1.10:9999), got {value!r}")
        return value

    @property
    def content_rating(self) -> str:
        """The rating every scene no rule matches gets ('' leaves Plex's alone, or clears one a rule set)."""
        return self._ratings[0]

    @property
    def content_rating_tags(self) -> str:
        """The Tag=Rating rules, in the user's order, as validation.metadata_extras reads them."""
        return "; ".join(f"{tag}={rating}" for tag, rating in self._ratings[1])

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
        if self.scene_content_rating.strip():
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
        raise ValueError(f"{mention('path_map')}: {rule!r} holds {rule.count('=')} rules or a stray '=' (a ',' list "
                         f"works only when every part is a whole rule between absolute paths); {_PATH_MAP_FIX}")
    pair = _path_rule(rule)
    if pair is None:
        raise ValueError(f"{mention('path_map')}: rule {rule!r} has no Stash side, no Plex side or no '='; "
                         f"{_PATH_MAP_FIX}")
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


def _missing_messages() -> dict[str, str]:
    return {
        "plex_url": f"Plex URL is not set: add {where_to_set('plex_url')} (e.g. http://192.168.1.10:32400)",
        "plex_token": f"Plex token is not set: add {where_to_set('plex_token')}",
    }


def _coerce(raw: Mapping[str, Any], known: set[str]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key not in known or value is None:
            continue
        if isinstance(value, str) and not value.strip() and key in _COERCERS:
            continue  # an emptied number or switch (``PLEXSYNC_MAX_TAGS=``) means "use the default"
        coercer = _COERCERS.get(key)
        try:
            values[key] = coercer(key, value) if coercer else (value.strip() if isinstance(value, str) else value)
        except ValueError as exc:
            problems.append(str(exc))
    for key, message in _missing_messages().items():
        if not str(values.get(key) or "").strip():
            problems.append(message)
    return values, problems


def _closest(key: str, known: set[str]) -> str | None:
    guess = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.6)
    return guess[0] if guess else None


def _unknown_key_warnings(raw: Mapping[str, Any], known: set[str]) -> list[str]:
    warnings = []
    for key in raw:
        if key in known or key in OLD_KEYS:
            continue
        guess = _closest(str(key), known)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        warnings.append(f"Unknown PlexSync setting {key!r} ignored{hint}")
    return warnings


def load_config(raw: Mapping[str, Any] | None) -> tuple[PlexSyncConfig, list[str]]:
    """Validated settings plus warnings; ConfigError lists every bad setting (never the token's value).
    ``raw`` may hold keys of earlier versions (validation.settings.old_keys) and the tunables."""
    raw = dict(raw or {})
    known = set(PlexSyncConfig.model_fields)
    try:
        current, notes = translate(raw)
    except ValueError as exc:
        raise ConfigError(f"PlexSync settings need attention: {exc}") from None
    values, problems = _coerce(current, known)
    try:
        config = PlexSyncConfig(**values)
    except ValidationError as exc:
        for error in exc.errors(include_input=False):
            name = ".".join(map(str, error["loc"]))
            if error["type"] == "missing" and name in _missing_messages():
                continue  # already said, in words a user can act on
            cause = error.get("ctx", {}).get("error")
            problems.append(str(cause) if cause else f"{mention(name) if name in known else name}: {error['msg']}")
    if problems:
        raise ConfigError("PlexSync settings need attention: " + "; ".join(problems))
    return config, notes + _unknown_key_warnings(raw, known)


def config_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``PLEXSYNC_PLEX_URL=…`` → ``{"plex_url": …}`` for every setting, tunable and earlier key (the command
    line's source)."""
    known = set(PlexSyncConfig.model_fields) | OLD_KEYS
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
    current = set(PlexSyncConfig.model_fields) | {name[len(ENV_PREFIX):].lower() for name in other_variables}
    warnings = []
    for name in sorted(environ):
        key = name[len(ENV_PREFIX):].lower()
        if name.startswith(ENV_PREFIX) and key not in current and key not in OLD_KEYS:
            guess = _closest(key, current)  # suggest what the page and the docs name now
            hint = f" (did you mean {ENV_PREFIX}{guess.upper()}?)" if guess else ""
            warnings.append(f"Unknown PlexSync environment variable {name} ignored{hint}")
    return warnings
