"""Size limits for what we send to Plex.

Plex documents none; what binds is URL length. Every value we write travels in one PUT's query string (plexapi's
edit API), percent-encoded UTF-8: a letter costs 1 byte, a space or ``&`` 3, a CJK character 9, and a removed tag
name is encoded twice (a CJK character then costs 15). Caps in characters alone let one edit grow to megabytes,
so long values are capped by their percent-encoded size too (``*_BYTES``; a list's includes each entry's key).

Worst case, every cap reached with CJK text and every tag list replaced by a different full one in the same PUT
(the old names removed explicitly): about 46 KiB, under ``EDIT_URL_BYTES`` (tests/plex/test_metadata_writer.py
builds it). Not capped: names in Plex that PlexSync did not write (a user's own collections, which are re-sent,
or tags added in Plex that a read push removes). A typical scene's edit is 1-3 KiB. Proxies commonly allow
8-64 KiB request lines (nginx's and Apache's defaults are 8 KiB): behind one, long summaries or big tag lists
need its limit raised.
"""

EDIT_URL_BYTES = 48 * 1024

TITLE = 255  # characters, for every one-line value
TAGLINE = 255
STUDIO = 255
TAG = 255  # one genre / actor / collection / director name
DIRECTOR = 255
LINE_BYTES = 768  # any one-line value, encoded: 255 ASCII characters always fit (3 bytes each at most), 85 CJK
SUMMARY_BYTES = 16 * 1024  # ~11 000 characters of English prose, ~1 800 of CJK; paragraphs kept
TAG_KEY_BYTES = 30  # what one list entry's key adds, at most: "collection%5B199%5D.tag.tag=" and its "&"
GENRE_BYTES = 4 * 1024  # ~90 typical tag names ("Tag Name 10": 15 bytes + its key)
ACTOR_BYTES = 4 * 1024
COLLECTION_BYTES = 2 * (LINE_BYTES + TAG_KEY_BYTES)  # the studio and its parent, both at the cap
MAX_ACTORS = 200
MAX_COLLECTIONS = 20
MAX_DIRECTORS = 10
