"""Fault-matrix fixtures: the Plex emulator and a PlexClient on it with quick in-call retries."""

from tests.plex.conftest import client, make_client  # noqa: F401  (shared fixtures)
