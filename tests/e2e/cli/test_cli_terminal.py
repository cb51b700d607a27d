"""``sync-all`` in a real terminal (a pty): one progress bar redrawn on one line, plain words, a clean summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator

pty = pytest.importorskip("pty")  # POSIX terminals; Windows has no pty module
REPO = Path(__file__).resolve().parents[3]
SCENES = 120  # three batches: the bar is redrawn several times


def run_in_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, str(REPO / "PlexSync.py"), *args], stdin=terminal,
                               stdout=terminal, stderr=terminal, env={**os.environ, **env}, cwd=cwd)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_sync_all_in_a_terminal_shows_one_progress_line_and_a_clean_summary(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT])
        for number in range(SCENES):
            plex.add_item(section, file=f"{lib.PLEX_ROOT}/t{number}.mp4", size=4, title=f"t{number}")
            stash.add_scene(title=f"Terminal {number}", files=[{"path": f"{lib.STASH_ROOT}/t{number}.mp4",
                                                                "size": 4}])
        data = tmp_path / "data"
        data.mkdir()
        env = {"PLEXSYNC_DATA_DIR": str(data), "PLEXSYNC_PLEX_URL": plex.url, "PLEXSYNC_PLEX_TOKEN": lib.PLEX_TOKEN,
               "PLEXSYNC_PATH_MAP": lib.PATH_MAP, "PLEXSYNC_STASH_URL": stash.url}
        status, screen = run_in_terminal(["sync-all"], env, tmp_path)

    assert status == 0, screen
    lines = [line for line in screen.replace("\r\n", "\n").split("\n") if line.strip()]
    bars = [line for line in lines if "[" in line and "scenes" in line and "ETA" in line]
    assert len(bars) == 1, screen  # every redraw is a \r on the same line
    final = bars[0].split("\r")[-1].replace("\x1b[K", "")
    assert re.search(rf"\[#+\] {SCENES}/{SCENES} scenes  \d+\.\d/s  ETA 0m00s", final), final
    assert "\x01" not in screen and "\x02" not in screen  # no Stash wire bytes
    assert not any(line.startswith("Scene ") for line in lines)  # per-scene lines only with -v
    assert lines[-1].startswith(f"Synced {SCENES} scenes (0 already right), 0 failed"), lines[-2:]
    assert lines[-2].startswith(f"Looked at {SCENES} scenes; {SCENES} differ"), lines[-2:]
    assert lib.PLEX_TOKEN not in screen
