"""The longest edit request a Plex server takes, learned from its refusals instead of assumed.

Plex takes an edit as one long request line (``plex.metadata_fields``). Directly, a PMS takes long lines: it
answered 400 only to a ~35 KB one (Kometa-Team/Kometa#2284), so a 120-performer cast goes whole in one request.
A reverse proxy in front of it takes less: nginx answers 414 above 8 KiB (``large_client_header_buffers``),
Apache above 8190 bytes (``LimitRequestLine``), others 413, 431 or 400. So no limit is assumed: an edit goes as
one request, and when one is refused with one of those statuses, the limit drops to the next step below that
request's size and the edit is planned again within it (``plex.edit_requests``). Steps, not the exact size:
a proxy does not say its limit, and the steps cover the common ones in one or two refusals each.

Several pushes run at once and share one ``RequestLimit``; the worker stores what was learned per server and
hands it back the next run (``plex`` never touches the store).
"""

from __future__ import annotations

import threading

from plex.errors import PlexRejected
from validation.limits import REQUEST_LINE_BYTES

SIZE_REFUSALS = (400, 413, 414, 431)  # what a server or proxy answers a request line too long for it
LIMIT_STEPS = (32000, 16000, REQUEST_LINE_BYTES, 4000)  # bytes; below the last, a refusal is not about size


class RequestLimit:
    """``line_bytes``: the longest request line to send this server, None while none was ever refused."""

    def __init__(self, line_bytes: int | None = None) -> None:
        self.line_bytes = line_bytes
        self._lock = threading.Lock()

    def lower_after(self, exc: BaseException, line_bytes: int) -> int | None:
        """After ``exc`` answered a request of ``line_bytes``: the lower limit to plan the edit within, or None
        when the refusal is not about size (another status, or a request already as small as the last step)."""
        if not isinstance(exc, PlexRejected) or exc.status not in SIZE_REFUSALS:
            return None
        step = next((step for step in LIMIT_STEPS if step < line_bytes), None)
        if step is None:
            return None
        with self._lock:
            if self.line_bytes is None or step < self.line_bytes:
                self.line_bytes = step
            return self.line_bytes

    def undo(self, lowered_to: int, before: int | None) -> None:
        """A refusal that stayed at every step was not about size: go back to the limit before it (unless
        another push lowered the limit since)."""
        with self._lock:
            if self.line_bytes == lowered_to:
                self.line_bytes = before
