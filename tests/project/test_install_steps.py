"""The manual install (docs/install.md) names exactly what the release zip holds, and README's commands sit
in code fences (a Markdown renderer would eat their backslashes)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tools.make_release import build

REPO = Path(__file__).resolve().parents[2]


def manual_install_contents() -> set[str]:
    text = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    sentence = text.split("The zip holds only", 1)[1].split(".\n", 1)[0]
    return set(re.findall(r"`([^`<*]+)`", sentence))


def test_the_manual_install_names_exactly_what_the_release_zip_holds(tmp_path):
    with zipfile.ZipFile(build(tmp_path)) as archive:
        top_level = {name.split("/", 1)[0] for name in archive.namelist()}
    assert manual_install_contents() == top_level


def test_readme_commands_are_fenced_so_markdown_keeps_their_backslashes():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    fence_open = False
    commands = 0
    for line in lines:
        if line.strip().startswith("```"):
            fence_open = not fence_open
        elif line.startswith("$ "):
            commands += 1
            assert fence_open, line
    assert commands >= 2
