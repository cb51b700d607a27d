"""Length limits for what we send to Plex, in characters.

Plex documents none; everything we write travels in the PUT's query string (plexapi's edit API), where
non-ASCII costs up to 9 bytes per character once percent-encoded, and PMS and proxies cap URL length.
These keep one scene's full edit comfortably under common 64 KiB URL limits.
"""

TITLE = 255
TAGLINE = 255
STUDIO = 255
TAG = 255  # one genre / actor / collection / director name
DIRECTOR = 255
SUMMARY = 20_000  # long enough for any real description; paragraphs are kept
MAX_ACTORS = 200
MAX_COLLECTIONS = 20
MAX_DIRECTORS = 10
