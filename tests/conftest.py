"""Fixtures shared across test folders: a running Plex emulator with one movie library."""

from __future__ import annotations

import os

import pytest

from emulators.plex_server import PlexEmulator

TOKEN = "secret-token"
# No test reaches PyPI: a plugin run that installs a missing package (validation.dependencies) finds only the
# wheels a test offers (PIP_FIND_LINKS), or fails at once instead of waiting on the network.
os.environ["PIP_NO_INDEX"] = "1"


@pytest.fixture()
def emu():
    with PlexEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture()
def section_id(emu: PlexEmulator) -> int:
    return emu.add_section(title="Stash", locations=["/data/stash"], type="movie")
