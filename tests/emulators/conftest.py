"""Fixtures for the emulator fidelity tests: a running Plex emulator and a real plexapi client on it."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators.plex_server import PlexEmulator

TOKEN = "secret-token"


@pytest.fixture()
def emu():
    with PlexEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture()
def section_id(emu: PlexEmulator) -> int:
    return emu.add_section(title="Stash", locations=["/data/stash"])


@pytest.fixture()
def plex(emu: PlexEmulator, section_id: int) -> PlexServer:
    return PlexServer(emu.url, TOKEN, timeout=5)
