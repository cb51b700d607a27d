"""The gap report as Stash runs it (task "Show Gaps": its Info lines) and from the command line (``gaps`` with
``--json`` and ``--csv``), on the demo library with scenes missing on each side (issue 21)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture()
def gaps(harness):
    """The demo library synced; then one file only Plex has and two scenes only Stash has."""
    section_id, _ = lib.populate_plex(harness.plex)
    lib.populate_stash(harness.stash)
    assert harness.task("Sync All Scenes").error is None
    harness.plex.add_item(section_id, file=f"{lib.PLEX_ROOT}/Plex Only/bonus.mp4", size=1, title="Bonus Reel")
    stash_only = [harness.stash.add_scene(title=f"Stash only {n}", files=[{"path": f"{lib.STASH_ROOT}/new/{n}.mp4",
                                                                            "size": n + 1}]) for n in range(2)]
    return stash_only


def test_the_task_names_the_counts_and_the_first_gaps_at_info(harness, gaps):
    result = harness.task("Show Gaps")
    assert result.error is None, result.error
    info = [text for level, text in result.logs if level == "info"]
    assert any(text.startswith("Gaps: 1 Plex item no Stash scene has, 2 Stash scenes with no Plex item "
                               "(2 not found in Plex)") for text in info), info
    assert f"Only in Plex: Plex item {result.output['plex_only'][0]['rating_key']} 'Bonus Reel' in Stash Scenes: " \
           f"{lib.PLEX_ROOT}/Plex Only/bonus.mp4" in info
    for scene_id in gaps:
        assert any(text.startswith(f"Only in Stash: Scene {scene_id} 'Stash only") for text in info), info


def test_the_command_line_prints_every_gap_in_words_as_json_and_csv(harness, gaps):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    base = [sys.executable, str(REPO / "PlexSync.py"), "gaps", "--data-dir", str(harness.data_dir),
            "--stash-url", harness.stash.url]
    harness.data_dir.mkdir(parents=True, exist_ok=True)
    as_json = subprocess.run(base + ["--json"], capture_output=True, env=env, timeout=120)
    assert as_json.returncode == 0, as_json.stderr.decode()
    output = json.loads(as_json.stdout)["output"]
    assert {item["scene_id"] for item in output["stash_only"]} == {int(scene_id) for scene_id in gaps}
    as_csv = subprocess.run(base + ["--csv"], capture_output=True, env=env, timeout=120)
    assert as_csv.returncode == 0, as_csv.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
    assert [(row["side"], row["title"]) for row in rows] == [("plex_only", "Bonus Reel"), ("stash_only", "Stash only 0"),
                                                               ("stash_only", "Stash only 1")]
    assert rows[1]["plex_path"] == f"{lib.PLEX_ROOT}/new/0.mp4" and rows[1]["reason_code"] == "not_found"
    for n in range(2, 7):  # more than a task's Info lines name: the command line prints them all
        harness.stash.add_scene(title=f"Stash only {n}", files=[{"path": f"{lib.STASH_ROOT}/new/{n}.mp4", "size": 1}])
    words = subprocess.run(base, capture_output=True, env=env, timeout=120, text=True)
    assert words.returncode == 0, words.stderr
    lines = words.stdout.splitlines()
    assert lines[0].startswith("Gaps: 1 Plex item no Stash scene has, 7 Stash scenes with no Plex item")
    assert sum(line.startswith("Only in Stash: Scene ") for line in lines) == 7 and "more" not in words.stdout
