"""The release zip holds the runtime and nothing Stash would misread as a second plugin."""

from __future__ import annotations

import zipfile

from tools.make_release import build


def test_release_zip_has_one_yml_and_only_runtime_files(tmp_path):
    with zipfile.ZipFile(build(tmp_path)) as archive:
        names = archive.namelist()
    assert [n for n in names if n.endswith(".yml")] == ["PlexSync.yml"]
    assert "PlexSync.py" in names and "requirements.txt" in names and "sync_queue/store.py" in names
    assert not [n for n in names if n.startswith(("tests/", "emulators/", "docs/", ".ci/", "benchmarks/"))]
    assert "mkdocs.yml" not in names and not [n for n in names if n.endswith(".pyc")]
