"""Fixtures shared across test folders: a running Plex emulator with one movie library."""

from __future__ import annotations

import pytest

from emulators.plex.server import PlexEmulator

TOKEN = "secret-token"


@pytest.fixture()
def emu():
    with PlexEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture()
def section_id(emu: PlexEmulator) -> int:
    return emu.add_section(title="Stash", locations=["/data/stash"], type="movie")
