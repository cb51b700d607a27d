"""docs/install.md's manual install is exact (its command, run here, gives a plugin folder Stash loads), it lists
every package requirements.txt has, and no page presents an install URL the release process does not create."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

from emulators.plugin_yml import load_plugin_yml
from tools.make_release import build

REPO = Path(__file__).resolve().parents[2]
INSTALL = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
PAGES = {name: (REPO / name).read_text(encoding="utf-8") for name in ("README.md", "docs/install.md",
                                                                       "docs/config.md", "CONTRIBUTING.md")}


def requirement_lines() -> list[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_every_requirement_is_listed_with_its_bounds():
    listed = dict(re.findall(r"^\| ([a-z-]+) \| `([^`]+)` \|$", INSTALL, flags=re.MULTILINE))
    assert [f"{name}{bounds}" for name, bounds in listed.items()] == requirement_lines()


def test_the_documented_unpack_command_gives_a_plugin_stash_loads(tmp_path):
    zip_path = build(tmp_path / "dist")
    [command] = re.findall(r"^\| Linux, macOS \| `([^`]+)` \|$", INSTALL, flags=re.MULTILINE)
    argv = [sys.executable if word == "python3" else word for word in shlex.split(command)]
    home = tmp_path / "home"
    argv = [word.replace("~", str(home)) for word in argv]
    subprocess.run(argv, cwd=zip_path.parent, check=True, timeout=60, env={**os.environ, "HOME": str(home)})
    plugin = home / ".stash" / "plugins" / "PlexSync"
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(str(p.relative_to(plugin)).replace("\\", "/") for p in plugin.rglob("*") if p.is_file()) \
            == sorted(archive.namelist())
    assert load_plugin_yml(plugin).tasks  # Stash's strict loader accepts it
    shown = subprocess.run([sys.executable, str(plugin / "PlexSync.py"), "--version"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith("PlexSync ")


def test_every_command_names_the_folder_the_install_puts_plexsync_in():
    """The manual install's folder, plugins/PlexSync (a source's own folder is named where it is explained)."""
    named = re.findall(r"plugins[/\\]([^/\\\s`'\"]+)[/\\]requirements\.txt", INSTALL)
    assert len(named) >= 5 and set(named) == {"PlexSync"}


def test_no_page_presents_an_install_url_the_release_process_does_not_create():
    for name, text in PAGES.items():
        assert "raw.githubusercontent.com" not in text and "/plugin-source/" not in text, name
        presented = re.findall(r"https?://[^\s<`]*index\.yml", text)  # <owner> marks a pattern, not a URL
        assert set(presented) <= {"https://stashapp.github.io/CommunityScripts/stable/index.yml"}, name
