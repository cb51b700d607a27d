"""One stable device identity, so Plex lists PlexSync once instead of a "new device" per run.

plexapi builds its request headers from ``plexapi.BASE_HEADERS`` (a dict ``plexapi.server`` imported by
reference), so the identity is applied by mutating that dict in place; rebinding it would be ignored.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

IDENTIFIER_FILE = "device_id"
PRODUCT = "PlexSync"


def load_or_create_identifier(data_dir: str | os.PathLike[str]) -> str:
    """A UUID created once in the data dir (atomically) and reused forever; a corrupt file is replaced."""
    path = Path(data_dir) / IDENTIFIER_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        return str(uuid.UUID(text))
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    identifier = str(uuid.uuid4())
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(identifier, encoding="ascii")
    os.replace(temporary, path)
    return path.read_text(encoding="ascii").strip()  # another process may have won the race: use theirs


def apply_identity(identifier: str, product: str = PRODUCT, device_name: str | None = None) -> None:
    import plexapi

    headers = plexapi.BASE_HEADERS
    headers["X-Plex-Client-Identifier"] = identifier
    headers["X-Plex-Product"] = product
    headers["X-Plex-Device-Name"] = device_name or f"{product} (Stash plugin)"
    plexapi.X_PLEX_IDENTIFIER = identifier
    plexapi.X_PLEX_PRODUCT = product
