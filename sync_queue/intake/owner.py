"""One data folder, one Stash.

Two Stash servers given the same ``PLEXSYNC_DATA_DIR`` would pour two libraries' scene ids into one queue, and
scene 42 of one would be synced over scene 42 of the other. The first Stash to use a folder owns it; a run from
another is refused with a message that says what to do.

A Stash is known by a random id PlexSync keeps inside that Stash's own config folder
(``<Dir>/plugin_data/PlexSync/stash_id``, ``Dir`` being ``server_connection.Dir``), not by the folder's path:
two Docker containers both call theirs ``/root/.stash``, yet each has its own folder and so its own id, while one
Stash restarted, given a new port, or whose config folder moved (it takes the file along) keeps its id. Reading
it costs a hook one small file read, and only with ``PLEXSYNC_DATA_DIR`` set. Where the file cannot be kept (a
read-only config folder), the folder's path is the identity, as it was before the id existed. Without
``PLEXSYNC_DATA_DIR`` the queue lives inside Stash's own config folder, so another identity there can only mean
that folder moved: the new one simply takes over.
"""

from __future__ import annotations

import os
import sqlite3

from sync_queue.database import Database
from sync_queue.location import DATA_DIR_ENV

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import Any, Mapping

KV_OWNER = "stash_owner"  # {"id": the owner's stash_id (or None), "dir": its config folder}; a path before ids
ID_FILE = ("plugin_data", "PlexSync", "stash_id")


class ForeignStashError(ValueError):
    """A second Stash was pointed at a data folder another Stash already uses."""


def stash_dir(server_connection: Mapping[str, Any] | None) -> str | None:
    """Stash's config folder as given (None from the command line: it says which folder it means itself)."""
    folder = (server_connection or {}).get("Dir")
    if not isinstance(folder, str) or not folder.strip():
        return None
    return os.path.normcase(os.path.abspath(folder.strip()))


def stash_id(folder: str) -> str | None:
    """The id kept in that Stash's config folder, made on first use (published with a hard link, so two hooks
    racing to make it agree on one); None when the folder cannot keep it."""
    path = os.path.join(folder, *ID_FILE)
    try:
        with open(path, encoding="ascii") as stream:
            return stream.read().strip() or None
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        return None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="ascii") as stream:
            stream.write(os.urandom(16).hex())
        try:
            os.link(temporary, path)  # never replaces an id another hook published a moment ago
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
        with open(path, encoding="ascii") as stream:
            return stream.read().strip() or None
    except (OSError, ValueError):
        return None


def _same_stash(owner: Any, identity: dict[str, Any]) -> bool:
    if isinstance(owner, dict):
        if owner.get("id") and identity["id"]:
            return owner["id"] == identity["id"]
        return owner.get("dir") == identity["dir"]
    return owner == identity["dir"]  # written before ids: a folder path


def check_owner(store: Database, server_connection: Mapping[str, Any] | None,
                environ: Mapping[str, str] | None = None) -> None:
    folder = stash_dir(server_connection)
    if folder is None:
        return
    shared = bool((os.environ if environ is None else environ).get(DATA_DIR_ENV, "").strip())
    owner = store.get_json(KV_OWNER, None)
    identity = {"id": stash_id(folder) if shared else None, "dir": folder}  # only a shared folder needs the id
    if _same_stash(owner, identity):
        if shared and owner != identity:
            store.set_json(KV_OWNER, identity)  # moved, or first seen with its id: remember where it is now
        return
    if owner is not None and shared:
        where = owner.get("dir") if isinstance(owner, dict) else owner
        raise ForeignStashError(
            f"PlexSync's data folder {store.data_dir} ({DATA_DIR_ENV}) already belongs to the Stash whose config "
            f"folder is {where}; this run comes from another Stash, at {folder}. Two Stash servers cannot share one "
            f"queue (their scene ids would collide): give each its own {DATA_DIR_ENV}, or unset it.")
    store.set_json(KV_OWNER, identity)


def check_owner_unless_busy(store: Database, server_connection: Mapping[str, Any] | None) -> None:
    """:func:`check_owner`, except that a busy or broken database leaves the check to the next run: the run's own
    use of the store then waits, spools its event or says why (a refusal still raises)."""
    try:
        check_owner(store, server_connection)
    except (sqlite3.Error, OSError):
        pass
