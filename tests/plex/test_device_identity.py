"""One device identity per data dir, applied to plexapi's shared header dict even after plexapi.server loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import plexapi
import plexapi.server  # imported first on purpose: the identity must still apply
import pytest

from emulators.plex.server import PlexEmulator
from plex.device_identity import IDENTIFIER_FILE, apply_identity, load_or_create_identifier

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def restore_headers():
    saved = dict(plexapi.BASE_HEADERS)
    saved_attrs = (plexapi.X_PLEX_IDENTIFIER, plexapi.X_PLEX_PRODUCT, plexapi.X_PLEX_DEVICE_NAME)
    yield
    plexapi.BASE_HEADERS.clear()
    plexapi.BASE_HEADERS.update(saved)
    plexapi.X_PLEX_IDENTIFIER, plexapi.X_PLEX_PRODUCT, plexapi.X_PLEX_DEVICE_NAME = saved_attrs


def test_created_once_and_reused(tmp_path: Path) -> None:
    first = load_or_create_identifier(tmp_path / "data")
    assert str(uuid.UUID(first)) == first
    assert load_or_create_identifier(tmp_path / "data") == first
    assert (tmp_path / "data" / IDENTIFIER_FILE).read_text().strip() == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == [IDENTIFIER_FILE]  # no temporary left behind


@pytest.mark.parametrize("content", [b"not-a-uuid", b"", b"\xff\xfe\x00garbage"])
def test_a_corrupt_file_is_replaced(tmp_path: Path, content: bytes) -> None:
    (tmp_path / IDENTIFIER_FILE).write_bytes(content)
    identifier = load_or_create_identifier(tmp_path)
    assert str(uuid.UUID(identifier)) == identifier
    assert load_or_create_identifier(tmp_path) == identifier


def test_apply_identity_mutates_the_dict_plexapi_server_uses(restore_headers) -> None:
    headers_before = plexapi.BASE_HEADERS
    apply_identity("11111111-2222-3333-4444-555555555555", device_name="Box")
    assert plexapi.BASE_HEADERS is headers_before
    assert plexapi.server.BASE_HEADERS["X-Plex-Client-Identifier"] == "11111111-2222-3333-4444-555555555555"
    assert plexapi.server.BASE_HEADERS["X-Plex-Product"] == "PlexSync"
    assert plexapi.server.BASE_HEADERS["X-Plex-Device-Name"] == "Box"
    assert plexapi.X_PLEX_IDENTIFIER == "11111111-2222-3333-4444-555555555555"


CHILD = """
import sys
import plexapi.server  # loaded before the identity is applied, as in a long-running worker
from plex.client import PlexClient
PlexClient(sys.argv[1], sys.argv[2], data_dir=sys.argv[3]).probe()
"""


def test_two_processes_with_one_data_dir_send_one_identifier(tmp_path: Path) -> None:
    with PlexEmulator(token="secret-token") as emu:
        for _ in range(2):
            subprocess.run([sys.executable, "-c", CHILD, emu.url, "secret-token", str(tmp_path / "data")],
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, timeout=60)
        stored = (tmp_path / "data" / IDENTIFIER_FILE).read_text().strip()
        assert emu.client_identifiers == {stored}
        products = {r.headers.get("x-plex-product") for r in emu.requests}
        assert products == {"PlexSync"}
