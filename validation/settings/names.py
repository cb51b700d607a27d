"""What each setting is called where a user meets it: its label on Stash's settings page, its command-line flag,
its ``PLEXSYNC_*`` variable and, for the expert tunables not on the page, its ``tunables.conf`` line.

Messages name a setting through :func:`mention` and :func:`where_to_set`, so a Stash user reads the label the
page shows and a terminal user the flag they can type. Standard library only.

Stash lists a plugin's settings sorted by key (pkg/plugin/config.go, ``sort.Strings(keys)``), so the keys are
chosen for that order: the four a new user needs first, then the rest, each sorting after ``plex_url``.
"""

from __future__ import annotations

ENV_PREFIX = "PLEXSYNC_"
TUNABLES_FILE = "tunables.conf"  # in the data folder: ``name = value`` lines (validation.settings.tunables)

# The settings page, as Stash shows it (sorted by key). Each label is the yml's displayName and the config
# model's field description (tests/project/test_config_docs.py keeps the three equal).
PAGE_LABELS: dict[str, str] = {
    "path_map": "Path map",
    "plex_library": "Plex libraries",
    "plex_token": "Plex token",
    "plex_url": "Plex URL",
    "preserve_plex_edits": "Preserve Plex edits",
    "ratings_from_plex": "Import ratings from Plex",
    "scene_content_rating": "Content rating",
    "scrobble_stash_plays": "Mark Stash plays watched in Plex",
    "skip_fields": "Fields PlexSync leaves alone",
    "skip_not_found": "Skip scenes not in Plex",
    "skip_tls_verify": "Don't verify Plex's TLS certificate (self-signed only)",
    "stash_url_for_plex": "Stash URL as Plex can reach it (performer photos)",
    "stash_url_with_api_key": "Put Stash's API key into photo URLs stored in Plex",
    "sync_paused": "Pause syncing",
    "tag_collections": "Tags that become collections",
    "use_closest_match": "Pick the closest match when files look alike",
    "verbose_logging": "Debug logging",
    "watch_history_accounts": "Plex accounts whose plays to import",
    "watch_history_from_plex": "Import Plex plays automatically",
    "with_extras": "Extras to turn on",
}
# Only an expert changes these: a PLEXSYNC_<KEY> variable or a line in the data folder's tunables.conf (a value
# saved in Stash under the key, from before they left the page, is read too).
TUNABLE_LABELS: dict[str, str] = {
    "max_retries": "Max retries",
    "connect_timeout": "Connect timeout (s)",
    "read_timeout": "Read timeout (s)",
    "max_tags": "Max tags",
    "settle_seconds": "Settle seconds",
    "max_task_minutes": "Max task minutes",
    "import_plays_minutes": "Play import interval (minutes)",
    "log_format": "Log format",
    "obfuscate_paths": "Obfuscate paths",
}
LABELS: dict[str, str] = {**PAGE_LABELS, **TUNABLE_LABELS}
SETTINGS_PLACE = "PlexSync's settings (Settings → Plugins → PlexSync)"


def label(key: str) -> str:
    """The words Stash's settings page shows for ``key`` (the key itself for one PlexSync does not know)."""
    return LABELS.get(key, key)


def flag(key: str) -> str:
    """``plex_url`` → ``--plex-url``."""
    return "--" + key.replace("_", "-")


def env_var(key: str) -> str:
    """``plex_url`` → ``PLEXSYNC_PLEX_URL``."""
    return ENV_PREFIX + key.upper()


def on_command_line() -> bool:
    """True in a ``python PlexSync.py <command>`` process (the command line set its log output up)."""
    from validation import stash_log

    return stash_log.on_command_line()


def mention(key: str) -> str:
    """A setting named for this reader: ``Plex token`` in Stash, ``--plex-token (PLEXSYNC_PLEX_TOKEN)`` on the
    command line; a tunable by its variable and its tunables.conf line."""
    if on_command_line():
        return f"{flag(key)} ({env_var(key)})"
    if key in TUNABLE_LABELS:
        return f"{env_var(key)} ({key} in {TUNABLES_FILE})"
    return label(key)


def where_to_set(key: str) -> str:
    """Where a reader changes ``key``: ``Plex token in PlexSync's settings`` in Stash, ``--plex-token or
    PLEXSYNC_PLEX_TOKEN`` on the command line, the variable or tunables.conf line for a tunable."""
    if on_command_line():
        return f"{flag(key)} or {env_var(key)}"
    if key in TUNABLE_LABELS:
        return f"{env_var(key)} or the line {key} = … in the data folder's {TUNABLES_FILE}"
    return f"{label(key)} in PlexSync's settings"
