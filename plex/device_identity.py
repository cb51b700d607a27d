"""One stable device identity, so Plex lists PlexSync once instead of a "new device" per run.

plexapi builds its request headers from ``plexapi.BASE_HEADERS``, a dict ``plexapi.server`` imported by
reference, so the identity is applied by mutating that dict in place; rebinding the name would be ignored
once ``plexapi.server`` has been imported.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

IDENTIFIER_FILE = "device_id"
PRODUCT = "PlexSync"


def load_or_create_identifier(data_dir: str | os.PathLike[str]) -> str:
    """A UUID created once in the data dir (written atomically) and reused forever; a corrupt file is replaced."""
    path = Path(data_dir) / IDENTIFIER_FILE
    existing = _read_identifier(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{IDENTIFIER_FILE}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(str(uuid.uuid4()), encoding="ascii")
    os.replace(temporary, path)
    # Two first runs racing each replace the file; whatever landed last is the identity from now on.
    return _read_identifier(path) or path.read_text(encoding="ascii").strip()


def _read_identifier(path: Path) -> str | None:
    try:
        return str(uuid.UUID(path.read_text(encoding="ascii").strip()))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def apply_identity(identifier: str, product: str = PRODUCT, device_name: str | None = None) -> None:
    """Make every later plexapi request (including from already-built servers) carry this identity."""
    import plexapi

    name = device_name or f"{product} (Stash plugin)"
    headers = plexapi.BASE_HEADERS  # the very dict plexapi.server copies per request: mutate, never rebind
    headers["X-Plex-Client-Identifier"] = identifier
    headers["X-Plex-Product"] = product
    headers["X-Plex-Device-Name"] = name
    plexapi.X_PLEX_IDENTIFIER = identifier
    plexapi.X_PLEX_PRODUCT = product
    plexapi.X_PLEX_DEVICE_NAME = name
