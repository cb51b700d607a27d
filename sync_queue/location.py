"""Where PlexSync keeps its state: never inside the plugin folder (Stash's updater replaces it)."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping

DATA_DIR_ENV = "PLEXSYNC_DATA_DIR"


def _override(environ: Mapping[str, str] | None) -> str | None:
    """``$PLEXSYNC_DATA_DIR`` when set: it wins in Stash's runs and on the command line alike."""
    value = (os.environ if environ is None else environ).get(DATA_DIR_ENV, "").strip()
    return _absolute(value) if value else None


def _absolute(folder: str) -> str:
    """``Path(folder).expanduser().resolve()`` as text: pathlib's import is a cost every hook would pay."""
    return os.path.realpath(os.path.expanduser(folder))


def command_line_data_dir(plugin_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Outside Stash: ``$PLEXSYNC_DATA_DIR``, else the folder Stash's own runs use when this copy is
    installed in Stash (so ``PlexSync.py status`` shows the real queue), else ``./plexsync-data``."""
    from pathlib import Path

    from validation.install_help import stash_config_dir

    override = _override(environ)
    if override is not None:
        return Path(override)
    config_dir = stash_config_dir(plugin_dir)
    if config_dir is not None:
        return Path(config_dir).resolve() / "plugin_data" / "PlexSync"
    return Path("plexsync-data").resolve()


class DataDirError(ValueError):
    """No usable data directory could be derived from the environment or Stash's connection."""


def resolve_data_dir(server_connection: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> str:
    """``$PLEXSYNC_DATA_DIR`` if set, else ``<server_connection.Dir>/plugin_data/PlexSync``; absolute, as text."""
    override = _override(environ)
    if override is not None:
        return override
    stash_dir = (server_connection or {}).get("Dir")
    if not isinstance(stash_dir, str) or not stash_dir.strip():
        raise DataDirError(
            "Cannot tell where to keep PlexSync's queue: Stash sent no server_connection.Dir "
            f"and {DATA_DIR_ENV} is not set."
        )
    return os.path.join(_absolute(stash_dir), "plugin_data", "PlexSync")
