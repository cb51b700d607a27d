"""A reverse proxy in front of the Plex emulator, with nginx's default limits (``PlexEmulator(proxy=...)``), and
PMS's own request-line limit.

Many users reach Plex through nginx (or Apache) for TLS. Its defaults refuse requests the emulator alone would
take, so tests of what PlexSync sends must see them. (Python's http.server answers 414 itself above 64 KiB, before
any of this is asked.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# A request line that does not fit one ``large_client_header_buffers`` buffer (default ``4 8k``) answers ``414
# Request-URI Too Large`` (nginx docs, ngx_http_core_module; Apache's ``LimitRequestLine`` is 8190 too).
NGINX_REQUEST_LINE_BYTES = 8 * 1024  # the line and its CRLF fit one buffer
# A body above ``client_max_body_size`` (default ``1m``) answers ``413 Request Entity Too Large``: an image upload
# of a big cover (nginx docs; Kometa-Team/Kometa#2284 and plex-api.md's addendum for the URL side).
NGINX_BODY_BYTES = 1024 * 1024
# Plex itself, reached directly, takes much longer request lines: a real PMS answered 400 to a ~35 KB edit URL
# (Kometa-Team/Kometa#2284, a batch edit of many ids; fixed there by sending fewer per request). Where between
# 8 KiB and 35 KB its limit lies is not known [U]; PlexSync does not rely on the figure: it learns whatever limit
# answers.
PMS_REQUEST_LINE_BYTES = 32 * 1024
PMS_BAD_REQUEST = b"<html><head><title>Bad Request</title></head><body><h1>400 Bad Request</h1></body></html>"
_REASONS = {413: "Request Entity Too Large", 414: "Request-URI Too Large"}


def nginx_error_page(status: int) -> bytes:
    """The page nginx answers its own errors with."""
    title = f"{status} {_REASONS[status]}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n").encode()


@dataclass
class ProxyLimits:
    """nginx's default limits (change them to model a tuned proxy); ``refused``: (status, request line). Both
    refusals carry nginx's own small HTML page and never reach Plex."""

    request_line_bytes: int = NGINX_REQUEST_LINE_BYTES
    body_bytes: int = NGINX_BODY_BYTES
    refused: list[tuple[int, str]] = field(default_factory=list)
    longest_line: int = 0  # the longest request line that reached the proxy, refused or not
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refusal(self, request_line: str, body_length: int) -> tuple[int, bytes] | None:
        """nginx's answer when this request breaks a limit, else None (the request goes on to Plex)."""
        line_bytes = len(request_line.encode("latin-1", "replace")) + 2  # + CRLF
        status = None
        if line_bytes > self.request_line_bytes:
            status = 414
        elif body_length > self.body_bytes:
            status = 413
        with self._lock:
            self.longest_line = max(self.longest_line, line_bytes)
            if status is not None:
                self.refused.append((status, request_line))
        return None if status is None else (status, nginx_error_page(status))


def pms_refusal(request_line: str, limit: int | None) -> tuple[int, bytes] | None:
    """PMS's own answer to a request line longer than it takes (``limit`` None: no limit), else None."""
    if limit is None or len(request_line.encode("latin-1", "replace")) + 2 <= limit:
        return None
    return 400, PMS_BAD_REQUEST
