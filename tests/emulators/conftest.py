"""Fixtures for the emulator fidelity tests: a running Plex emulator and a real plexapi client on it."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators.plex.server import PlexEmulator
from tests.conftest import TOKEN


@pytest.fixture()
def plex(emu: PlexEmulator, section_id: int) -> PlexServer:
    return PlexServer(emu.url, TOKEN, timeout=5)
