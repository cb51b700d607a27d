"""``python PlexSync.py demo --serve``: after the demo, the emulated Stash (serving PlexSync's page) and Plex stay
up with their addresses printed, the printed command line works against them, and Ctrl+C ends it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(os.name == "nt", reason="Ctrl+C is sent as SIGINT, a POSIX signal")]


def read_until(process: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    seen: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError("".join(seen)[-3000:])


def test_demo_serve_keeps_stash_with_the_page_and_plex_running_until_ctrl_c(tmp_path):
    process = subprocess.Popen([sys.executable, str(REPO / "PlexSync.py"), "demo", "--serve"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shown = read_until(process, "(PlexSync's settings come from the emulated Stash")
        page_url = re.search(r"with PlexSync's page:\s+(http://\S+/plugin/PlexSync)", shown).group(1)
        plex_url, token = re.search(r"Plex \(emulated\):\s+(http://\S+)\s+\(token (\S+)\)", shown).groups()
        env = dict(re.findall(r"^\s+export (PLEXSYNC_\w+)=(\S+)$", shown, re.MULTILINE))
        assert set(env) == {"PLEXSYNC_STASH_URL", "PLEXSYNC_DATA_DIR"}, shown

        with urllib.request.urlopen(page_url, timeout=10) as page:
            assert page.status == 200 and b"/plugin/PlexSync/javascript" in page.read()
        with urllib.request.urlopen(page_url + "/javascript", timeout=10) as script:
            assert b"PlexSyncPage" in script.read()
        with urllib.request.urlopen(f"{plex_url}/identity?X-Plex-Token={token}", timeout=10) as identity:
            assert b"machineIdentifier" in identity.read()

        status = subprocess.run([sys.executable, str(REPO / "PlexSync.py"), "status"], capture_output=True,
                                text=True, env={**os.environ, **env}, cwd=tmp_path, timeout=120)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "6 synced" in status.stdout and "Waiting for Plex: 'New scene (not in Plex yet)'" in status.stdout
        data_dir = Path(env["PLEXSYNC_DATA_DIR"])
        assert data_dir.is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out[-2000:] + err[-2000:]
    assert "Traceback" not in err
    assert not data_dir.exists()  # the demo's temporary folder is gone, its background worker stopped first
