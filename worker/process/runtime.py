"""Everything one task or worker run needs, built once: settings, store, Stash reader, Plex client.

The Plex token is registered as a log secret before anything can print it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from plex.client import PlexClient
from sync_queue.schema import KV_SETTINGS_CACHE
from sync_queue.store import Store
from validation import stash_log
from validation.config import ConfigError, PlexSyncConfig, load_config, plugin_id_from_yml
from validation.settings.tunables import read_tunables
from worker.sync.pauses import WORKER_FAILURE_KEY
from worker.stash.reader import StashReader


log = stash_log.get_logger("runtime")


def plex_token(config: PlexSyncConfig) -> str:
    token = config.plex_token
    return token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)


@dataclass
class Runtime:
    data_dir: Path
    store: Store
    config: PlexSyncConfig
    stash: StashReader | None
    plugin_dir: Path
    warnings: list[str] = field(default_factory=list)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    log_file: Any = None
    settings_read_mono_s: float = field(default_factory=time.monotonic)
    settings_problem: str | None = None  # the last invalid-settings message, logged once
    _plex: PlexClient | None = None
    _sections: list[Any] | None = None

    @property
    def plex(self) -> PlexClient:
        if self._plex is None:
            connect, read = self.config.timeouts
            self._plex = PlexClient(
                self.config.plex_url,
                plex_token(self.config),
                data_dir=self.data_dir,
                verify_tls=self.config.verify_tls,
                connect_timeout=connect,
                read_timeout=read,
            )
        return self._plex

    @property
    def sections(self) -> list[Any]:
        """The Plex libraries we sync into (listed once per run)."""
        if self._sections is None:
            self._sections = self.plex.movie_sections(self.config.library_names)
        return self._sections

    def plex_requests(self) -> int:
        return self._plex.request_count if self._plex is not None else 0

    def close(self) -> None:
        self.store.close()

    def refresh_settings(self, *, max_age_s: float) -> bool:
        """Re-read the settings once they are ``max_age_s`` old; True when they changed.

        A detached worker can live for hours; without this a switched-off plugin or a corrected path map
        would wait for it to go idle. Settings Stash cannot give us right now, or that no longer validate,
        leave the current ones in force (and say why)."""
        if self.stash is None or time.monotonic() - self.settings_read_mono_s < max_age_s:
            return False
        self.settings_read_mono_s = time.monotonic()
        try:
            raw, notes = read_settings(self.stash, plugin_id_from_yml(self.plugin_dir), self.overrides, self.data_dir)
            stash_log.register_secret(str(raw.get("plex_token") or ""))
            config, warnings = load_config(raw)
            warnings = notes + warnings
        except ConfigError as exc:
            if str(exc) != self.settings_problem:
                log.error("PlexSync's settings changed but are not valid; keeping the previous ones: %s", exc)
            self.settings_problem = str(exc)
            return False
        except Exception as exc:  # Stash busy or restarting: the settings we have are still good
            log.debug("Could not re-read settings (%s); keeping the current ones", exc)
            return False
        self.settings_problem = None
        if config == self.config:
            return False
        log.info("PlexSync's settings changed; applying them")
        self.config, self.warnings = config, list(warnings)
        self._plex, self._sections = None, None  # URL, token, timeouts or libraries may be new
        apply_logging(config, plain_file=self.log_file)
        cache_settings(self.store, config)
        return True


def read_settings(stash: StashReader | None, plugin_id: str, overrides: Mapping[str, Any],
                  data_dir: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """Stash's saved settings, the expert tunables over them (validation.settings.tunables), the command line's over
    all; and what was wrong with the tunables file."""
    raw: dict[str, Any] = dict(stash.plugin_settings(plugin_id)) if stash is not None else {}
    tunables, notes = read_tunables(data_dir)
    raw.update(tunables)
    raw.update({key: value for key, value in overrides.items() if value is not None})
    return raw, notes


def apply_logging(config: PlexSyncConfig, *, plain_file: Any = None) -> None:
    stash_log.register_secret(plex_token(config))
    stash_log.configure(debug=config.debug_logging, json_format=config.log_format == "json", plain_file=plain_file)
    stash_log.set_path_obfuscation(config.obfuscate_paths)


def build_runtime(
    data_dir: Path,
    plugin_dir: Path,
    *,
    stash: StashReader | None,
    overrides: Mapping[str, Any] | None = None,
    log_file: Any = None,
    store: Store | None = None,
) -> Runtime:
    """Read and validate settings (ConfigError names the bad setting), then wire the run together. ``store``:
    the caller's own (it stays the caller's to close), else one the runtime opens and ``close`` closes."""
    plugin_id = plugin_id_from_yml(plugin_dir)
    raw, notes = read_settings(stash, plugin_id, overrides or {}, data_dir)
    stash_log.register_secret(str(raw.get("plex_token") or ""))
    store = Store(data_dir) if store is None else store
    config, warnings = load_config(raw)
    warnings = notes + warnings
    apply_logging(config, plain_file=log_file)
    for warning in warnings:
        log.warning(warning)
    cache_settings(store, config)
    return Runtime(data_dir=data_dir, store=store, config=config, stash=stash, plugin_dir=plugin_dir,
                   warnings=list(warnings), overrides=dict(overrides or {}), log_file=log_file)


def cache_settings(store: Store, config: PlexSyncConfig) -> None:
    """What hooks need to know without asking Stash: the master switch and the settle window. Settings
    that load also settle an earlier worker's failure to start (status stops showing it)."""
    with store.transaction():
        store.set_json(KV_SETTINGS_CACHE, {"enabled": config.enabled, "settle_seconds": config.settle_seconds,
                                           "log_format": config.log_format, "read_at": time.time()})
        store.delete_key(WORKER_FAILURE_KEY)
