"""Size limits for what we send to Plex.

Plex documents none; what binds is the request line and the upload body, and mostly at a reverse proxy in
front of Plex: nginx answers 414 to a request line over 8 KiB (``large_client_header_buffers``; Apache's
``LimitRequestLine`` is 8190 bytes) and 413 to a body over 1 MiB (``client_max_body_size``). A real PMS
answered 400 to a ~35 KB edit URL (Kometa-Team/Kometa#2284).

Every value we write travels in an edit PUT's query string, percent-encoded UTF-8: a letter costs 1 byte, a
space or ``&`` 3, a CJK character 9, and a removed tag name is encoded twice (a CJK character then costs 15).
An edit goes as one PUT until Plex or its proxy refuses one for its size; then it is split into PUTs within
the learned limit, at least ``REQUEST_LINE_BYTES`` behind a proxy's 8 KiB (``plex.request_limit``), so one value
must fit one PUT on its own: the summary and every one-line value (titles, each tag or actor name) are capped
by their encoded size (``*_BYTES``). Tag and actor lists are capped by count only (``max_tags``,
``MAX_ACTORS``): a list travels whole (the whole-list rule, ``plex.edit_requests``), and one longer than any
request the server takes is cut.
"""

REQUEST_LINE_BYTES = 8000  # "PUT <url> HTTP/1.1": under the 8 KiB proxies allow, with room to spare
IMAGE_UPLOAD_BYTES = 10 * 1024 * 1024  # the largest cover sent to Plex; a proxy may allow less (nginx: 1 MiB)

TITLE = 255  # characters, for every one-line value
TAGLINE = 255
STUDIO = 255
TAG = 255  # one genre / actor / collection / director name
DIRECTOR = 255
LINE_BYTES = 768  # any one-line value, encoded: 255 ASCII characters always fit (3 bytes each at most), 85 CJK
SUMMARY_BYTES = 7 * 1024  # ~7 000 characters of English prose, ~790 of CJK; paragraphs kept; fits one PUT
MAX_ACTORS = 200
MAX_COLLECTIONS = 20
