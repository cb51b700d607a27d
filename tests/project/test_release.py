"""The release zip holds the runtime and nothing Stash would misread as a second plugin; one version."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from tools.make_release import build, release_members

REPO = Path(__file__).resolve().parents[2]


def test_release_zip_has_one_yml_and_only_runtime_files(tmp_path):
    with zipfile.ZipFile(build(tmp_path)) as archive:
        names = archive.namelist()
    assert [n for n in names if n.endswith(".yml")] == ["PlexSync.yml"]
    assert "PlexSync.py" in names and "requirements.txt" in names and "sync_queue/store.py" in names
    assert not [n for n in names if n.startswith(("tests/", "emulators/", "docs/", ".ci/", "benchmarks/", "tools/"))]
    assert "mkdocs.yml" not in names and "README.md" not in names and not [n for n in names if n.endswith(".pyc")]
    assert (tmp_path / "index.yml").is_file()


def test_members_take_the_ui_folder_and_leave_everything_else():
    files = ["PlexSync.yml", "PlexSync.py", "requirements.txt", "requirements-dev.txt", "README.md", "mkdocs.yml",
             "ui/PlexSync.js", "ui/style.css", "plex/client.py", "plex/notes.md", "tools/make_release.py",
             "docs/install.md", "tests/e2e/install/test_installed_copy.py", "emulators/demo.py", "uix.py"]
    assert release_members(files) == ["PlexSync.py", "PlexSync.yml", "plex/client.py", "requirements.txt",
                                      "ui/PlexSync.js", "ui/style.css"]


def test_the_version_lives_in_the_yml_and_the_entry_reports_it(tmp_path):
    version = yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))["version"]
    shown = subprocess.run([sys.executable, str(REPO / "PlexSync.py"), "--version"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=60)
    assert shown.returncode == 0 and shown.stdout.strip() == f"PlexSync {version}"
    build(tmp_path)
    index = yaml.safe_load((tmp_path / "index.yml").read_text(encoding="utf-8"))
    assert index[0]["version"].startswith(f"{version}-")
