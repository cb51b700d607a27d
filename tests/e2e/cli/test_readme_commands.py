"""README's first command, exactly as written, in a fresh copy of the repository: the demo syncs scenes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


def readme_commands() -> list[str]:
    return [line[2:] for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("$ ")]


def test_readme_starts_with_the_demo_then_the_tests():
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("python PlexSync.py demo")
    assert "pytest" in commands[1] and "vermin" in commands[1]


def test_readme_first_command_runs_the_demo_in_a_fresh_venv(tmp_path):
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    copy = tmp_path / "PlexSync"
    for name in tracked:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "COV_", "COVERAGE"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "venv" not in p)
    result = subprocess.run(["bash", "-c", readme_commands()[0]], cwd=copy, capture_output=True, text=True,
                            env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    synced = re.search(r"Synced (\d+) of (\d+) scenes", result.stdout)
    assert synced and int(synced.group(1)) > 0, result.stdout[-3000:]


def test_readme_task_list_is_the_tasks_plexsync_yml_gives_stash():
    import yaml

    manifest = yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listing = readme.split("## Tasks\n", 1)[1].split(".\n", 1)[0]
    assert [name.strip() for name in " ".join(listing.split()).split(" · ")] == [
        task["name"] for task in manifest["tasks"]]
