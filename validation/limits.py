"""Size limits for what we send to Plex.

Plex documents none; what binds is URL length. Every value we write travels in one PUT's query string (plexapi's
edit API), percent-encoded UTF-8: a letter costs 1 byte, a space or ``&`` 3, a CJK character 9, and a removed tag
name is encoded twice (a CJK character then costs 15). Caps in characters alone let one value grow to hundreds
of KiB, so the summary and every one-line value (titles, each tag or actor name) are capped by their encoded
size too (``*_BYTES``).

Tag and actor lists are capped by count only (``max_tags``, ``MAX_ACTORS``): a byte budget on them would drop
tags the user's ``max_tags`` asks for. With the default ``max_tags`` and ordinary names, even an edit with every
one-line value and the summary at their caps and both lists replaced stays under ``EDIT_URL_BYTES``
(tests/plex/test_metadata_writer.py builds it); a typical scene's edit is 1-3 KiB. Many long non-ASCII tag
names can go past that, and proxies commonly allow 8-64 KiB request lines (nginx's and Apache's defaults are
8 KiB): behind one, long summaries or big tag lists need its limit raised.
"""

EDIT_URL_BYTES = 48 * 1024

TITLE = 255  # characters, for every one-line value
TAGLINE = 255
STUDIO = 255
TAG = 255  # one genre / actor / collection / director name
DIRECTOR = 255
LINE_BYTES = 768  # any one-line value, encoded: 255 ASCII characters always fit (3 bytes each at most), 85 CJK
SUMMARY_BYTES = 16 * 1024  # ~11 000 characters of English prose, ~1 800 of CJK; paragraphs kept
MAX_ACTORS = 200
MAX_COLLECTIONS = 20
