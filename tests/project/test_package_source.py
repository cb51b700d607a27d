"""What tools/make_release.py builds is what a Stash plugin source serves and what the CommunityScripts index
builds from, checked against emulators/package_manager.py and CommunityScripts' build_site.sh rules.

Those rules are restated below, not copied."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import yaml

from emulators import package_manager
from tools.make_release import COMMUNITY_FOLDER, build

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    build(folder)
    return folder


def community_index_entry(yml_text: str) -> dict[str, str]:
    """build_site.sh reads the plugin yml line by line: the first ``^name:``, ``^description:`` and
    ``^version:`` lines (the text after the first space, outer double quotes dropped) and ``^# requires:``."""
    def first(key: str) -> str:
        line = next((line for line in yml_text.splitlines() if line.startswith(f"{key}:")), "")
        return re.sub(r'^"(.*)"$', r"\1", line.split(" ", 1)[1].strip()) if " " in line else ""

    requires = [line[len("# requires:"):].strip() for line in yml_text.splitlines() if line.startswith("# requires:")]
    return {"name": first("name"), "description": first("description"), "version": first("version"),
            "requires": ",".join(requires)}


def test_stash_installs_the_source_by_its_rules_and_refuses_a_changed_zip(dist, tmp_path):
    entry = yaml.safe_load((dist / "index.yml").read_text(encoding="utf-8"))[0]
    assert package_manager.parse_date(entry["date"])  # pkg.TimeFormat, UTC
    plugin = package_manager.install((dist / "index.yml").as_uri(), "PlexSync", tmp_path / "plugins", "mine")
    with zipfile.ZipFile(dist / entry["path"]) as archive:
        assert sorted(str(p.relative_to(plugin)).replace("\\", "/") for p in plugin.rglob("*")
                      if p.is_file() and p.name != "manifest") == sorted(archive.namelist())
    manifest = yaml.safe_load((plugin / "manifest").read_text(encoding="utf-8"))
    assert manifest["id"] == "PlexSync" and manifest["version"] == entry["version"]
    (dist / entry["path"]).write_bytes((dist / entry["path"]).read_bytes() + b"x")
    try:
        with pytest.raises(package_manager.PackageError, match="does not match expected SHA256"):
            package_manager.install((dist / "index.yml").as_uri(), "PlexSync", tmp_path / "again", "mine")
    finally:
        build(dist)


def test_the_community_folder_is_the_zip_and_its_yml_reads_right_line_by_line(dist):
    folder = dist / COMMUNITY_FOLDER
    with zipfile.ZipFile(dist / "PlexSync.zip") as archive:
        assert sorted(str(p.relative_to(folder)).replace("\\", "/") for p in folder.rglob("*") if p.is_file()) \
            == sorted(archive.namelist())
        for name in archive.namelist():
            assert (folder / name).read_bytes() == archive.read(name)
    assert [p.name for p in folder.rglob("*.yml")] == ["PlexSync.yml"]  # build_site.sh makes a plugin of each
    yml_text = (folder / "PlexSync.yml").read_text(encoding="utf-8")
    manifest = yaml.safe_load(yml_text)
    assert community_index_entry(yml_text) == {"name": manifest["name"], "description": manifest["description"],
                                               "version": str(manifest["version"]), "requires": ""}
