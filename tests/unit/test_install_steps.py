"""README's install step 1 names exactly what the release zip holds, and its commands sit in code fences."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tools.make_release import RUNTIME_FILES, RUNTIME_PACKAGES, build

REPO = Path(__file__).resolve().parents[2]


def install_step_one() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Install in Stash", 1)[1]
    return section.split("\n1. ", 1)[1].split("\n2. ", 1)[0]


def test_install_step_one_copies_exactly_what_the_release_zip_holds(tmp_path):
    named = re.findall(r"`([^`<*]+)`", install_step_one().split(" into ", 1)[0])
    assert set(named) == set(RUNTIME_FILES) | set(RUNTIME_PACKAGES)
    with zipfile.ZipFile(build(tmp_path)) as archive:
        top_level = {name.split("/", 1)[0] for name in archive.namelist()}
    assert top_level == set(named)


def test_readme_commands_are_fenced_so_markdown_keeps_their_backslashes():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    fence_open = False
    for line in lines:
        if line.strip().startswith("```"):
            fence_open = not fence_open
        elif line.startswith("$ "):
            assert fence_open, line
