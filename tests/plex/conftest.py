"""A running Plex emulator and a PlexClient on it (fast in-call retries, so fault tests stay quick)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tenacity import stop_after_attempt, wait_none

from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from tests.conftest import TOKEN


def make_client(url: str, data_dir: Path, token: str = TOKEN, attempts: int = 3, **kwargs) -> PlexClient:
    return PlexClient(url, token, data_dir=data_dir, retry_wait=wait_none(), retry_stop=stop_after_attempt(attempts),
                      **kwargs)


@pytest.fixture()
def client(emu: PlexEmulator, section_id: int, tmp_path: Path) -> PlexClient:
    return make_client(emu.url, tmp_path, connect_timeout=2.0, read_timeout=5.0)
