"""Tests of plex/: the client, the matcher, the metadata writer, the library index, request limits and errors."""
