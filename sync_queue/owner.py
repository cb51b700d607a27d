"""One data folder, one Stash.

Two Stash servers given the same ``PLEXSYNC_DATA_DIR`` would pour two libraries' scene ids into one queue, and
scene 42 of one would be synced over scene 42 of the other. The first Stash to use a folder owns it (its config
folder, ``server_connection.Dir``, is its identity); a run from another is refused with a message that says what
to do. Without ``PLEXSYNC_DATA_DIR`` the folder lives inside Stash's own config folder, so a different ``Dir``
there can only mean that folder moved: the new one simply takes over.
"""

from __future__ import annotations

import os
import sqlite3

from sync_queue.database import Database
from sync_queue.location import DATA_DIR_ENV

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import Any, Mapping

KV_OWNER = "stash_owner"


class ForeignStashError(ValueError):
    """A second Stash was pointed at a data folder another Stash already uses."""


def stash_identity(server_connection: Mapping[str, Any] | None) -> str | None:
    stash_dir = (server_connection or {}).get("Dir")
    if not isinstance(stash_dir, str) or not stash_dir.strip():
        return None  # the command line: it says which folder it means itself
    return os.path.normcase(os.path.abspath(stash_dir.strip()))


def check_owner(store: Database, server_connection: Mapping[str, Any] | None,
                environ: Mapping[str, str] | None = None) -> None:
    identity = stash_identity(server_connection)
    if identity is None:
        return
    owner = store.get_json(KV_OWNER, None)
    if owner == identity:
        return
    shared = bool((os.environ if environ is None else environ).get(DATA_DIR_ENV, "").strip())
    if owner is not None and shared:
        raise ForeignStashError(
            f"PlexSync's data folder {store.data_dir} ({DATA_DIR_ENV}) already belongs to the Stash whose config "
            f"folder is {owner}; this run comes from the Stash at {identity}. Two Stash servers cannot share one "
            f"queue (their scene ids would collide): give each its own {DATA_DIR_ENV}, or unset it.")
    store.set_json(KV_OWNER, identity)


def check_owner_unless_busy(store: Database, server_connection: Mapping[str, Any] | None) -> None:
    """:func:`check_owner`, except that a busy or broken database leaves the check to the next run: the run's own
    use of the store then waits, spools its event or says why (a refusal still raises)."""
    try:
        check_owner(store, server_connection)
    except (sqlite3.Error, OSError):
        pass
