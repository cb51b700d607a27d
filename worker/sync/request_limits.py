"""The request-size limit learned for the Plex server (``plex.request_limit``), kept in the store between runs.

Keyed by a hash of ``plex_url``: a proxy's limit belongs to the address PlexSync reaches Plex by, so a new address
starts unknown. Trusted for a week, then asked again (a refusal or two), so a proxy whose limit the user raised
gets whole lists from then on. Saved on the worker's thread only (pushes run on others).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from plex.request_limit import RequestLimit

KV_PLEX_REQUEST_LIMIT = "plex_request_limit"
LIMIT_TRUST_S = 7 * 24 * 3600


def server_key(plex_url: str) -> str:
    return hashlib.sha256(plex_url.strip().rstrip("/").casefold().encode()).hexdigest()[:16]


class LearnedLimit:
    """The ``RequestLimit`` the writer shares across pushes, loaded from the store and saved back when a
    refusal lowered it."""

    def __init__(self, store: Any, plex_url: str, now_s: float | None = None) -> None:
        self.store = store
        self.server = server_key(plex_url)
        self.limit = RequestLimit(self._stored(time.time() if now_s is None else now_s))
        self._saved = self.limit.line_bytes

    def _stored(self, now_s: float) -> int | None:
        saved = self.store.get_json(KV_PLEX_REQUEST_LIMIT, None)
        if not isinstance(saved, dict) or saved.get("server") != self.server:
            return None
        learned_at_s, line_bytes = saved.get("learned_at"), saved.get("line_bytes")
        if not isinstance(learned_at_s, (int, float)) or not isinstance(line_bytes, int):
            return None
        return line_bytes if 0 <= now_s - learned_at_s <= LIMIT_TRUST_S else None

    def keep(self) -> None:
        """Store the limit if a refusal lowered it since it was loaded or last kept."""
        current = self.limit.line_bytes
        if current is None or current == self._saved:
            return
        self.store.set_json(KV_PLEX_REQUEST_LIMIT, {"server": self.server, "line_bytes": current,
                                                    "learned_at": time.time()})
        self._saved = current
