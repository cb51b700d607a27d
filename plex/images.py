"""Is a cover something Plex can take? Checked on the bytes before any upload, so a broken or oversized
cover is left out with a reason instead of failing the scene's whole push.

Plex shows JPEG, PNG, WebP and GIF posters; Stash serves covers as they were stored, so anything else (an
HTML error page, an AVIF, a truncated download) is recognised by its first bytes and not sent.
"""

from __future__ import annotations

from plex.errors import PlexRejected
from validation.limits import IMAGE_UPLOAD_BYTES

_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"))


def image_type(data: bytes) -> str | None:
    """JPEG, PNG, WebP or GIF by the file's magic bytes, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for signature, name in _SIGNATURES if data.startswith(signature)), None)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def image_problem(data: bytes, limit: int = IMAGE_UPLOAD_BYTES) -> str | None:
    """Why these bytes must not be uploaded to Plex, or None when they may."""
    if len(data) > limit:
        return f"the cover is {_megabytes(len(data))}, more than the {_megabytes(limit)} sent to Plex"
    if image_type(data) is None:
        return f"the cover is not a JPEG, PNG, WebP or GIF image (it starts with {data[:8]!r})"
    return None


def refusal_reason(exc: PlexRejected, size: int) -> str:
    """What to tell the user when Plex, or a proxy in front of it, refused an upload."""
    if exc.status == 413:
        return (f"Plex or a reverse proxy in front of it refused the {_megabytes(size)} cover as too large (413); "
                "raise the proxy's body limit (nginx: client_max_body_size, 1 MB by default)")
    return f"Plex refused the cover: {exc}"
