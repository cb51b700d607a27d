"""The release as a user gets it: installed from the served plugin source the way Stash's package manager does,
and run as Stash runs it with a Python that holds only the zip's requirements.

Only ``plugins/<source>`` is on PYTHONPATH and nothing of this checkout is (emulators/package_manager.py); see
release_env for why that environment is honest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from emulators import demo_library as lib
from emulators.plugin_runner import PluginRunner
from PlexSync import plugin_version
from tests.e2e.install.release_env import SOURCE_LOCAL_PATH, install_from_source, venv_from_requirements, write_probe
from tools.make_release import build

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e
INDEX_KEYS = ["id", "name", "metadata", "version", "date", "requires", "path", "sha256"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(zip, index.yml, interpreter of a venv made from the zip's requirements.txt), built once per module."""
    root = tmp_path_factory.mktemp("release")
    zip_path = build(root / "dist")
    with zipfile.ZipFile(zip_path) as archive:
        shipped_requirements = archive.read("requirements.txt")
    (root / "requirements.txt").write_bytes(shipped_requirements)
    python = venv_from_requirements(root / "requirements.txt", root / "venv")
    return zip_path, root / "dist" / "index.yml", python


def clean_env(probe: Path) -> dict[str, str]:
    """The test runner's environment without its venv, coverage hooks or PYTHONPATH; the probe instead."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIRTUAL_ENV", "COV_", "COVERAGE", "PYTHONPATH", "PLEXSYNC_"))}
    env["PYTHONPATH"] = str(probe)
    env["PLEXSYNC_IMPORT_PROBE"] = str(probe)
    return env


def test_the_index_describes_the_zip_the_way_stash_reads_it(release):
    zip_path, index_path, _ = release
    entries = yaml.safe_load(index_path.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and len(entries) == 1
    entry = entries[0]
    assert list(entry) == INDEX_KEYS
    assert entry["id"] == "PlexSync" and entry["name"] == "PlexSync" and entry["requires"] == []
    assert entry["path"] == zip_path.name and (index_path.parent / entry["path"]).is_file()
    assert entry["sha256"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert entry["version"].startswith(plugin_version(str(REPO)) + "-")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry["date"])  # UTC, Stash's pkg.TimeFormat
    assert "Plex" in entry["metadata"]["description"]


def test_the_zip_is_the_runtime_only_and_the_same_for_the_same_commit(release, tmp_path):
    zip_path, _, _ = release
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops <= {"PlexSync.yml", "PlexSync.py", "requirements.txt", "hooks", "sync_queue", "worker", "plex",
                    "validation", "ui"}
    assert [n for n in names if n.endswith(".yml")] == ["PlexSync.yml"]
    assert (REPO / "requirements.txt").read_bytes() == zipfile.ZipFile(zip_path).read("requirements.txt")
    assert build(tmp_path).read_bytes() == zip_path.read_bytes()


def test_the_installed_copy_checks_health_syncs_and_hooks_with_only_its_own_files(release, harness, tmp_path):
    zip_path, _, python = release
    plugin_dir = install_from_source(zip_path.parent, harness.stash_dir / "plugins")
    assert plugin_dir == harness.stash_dir / "plugins" / SOURCE_LOCAL_PATH / "PlexSync"
    assert (plugin_dir / "manifest").is_file() and (plugin_dir / "PlexSync.yml").is_file()
    probe = write_probe(tmp_path / "probe")
    elsewhere = tmp_path / "stash-cwd"
    harness.runner = PluginRunner(  # loads PlexSync.yml strictly, as Stash does
        plugin_dir, harness.stash.server_connection(data_dir=str(harness.stash_dir), plugin_dir=str(plugin_dir)),
        python=str(python), env=clean_env(probe), cwd=elsewhere)
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)

    health = harness.task("Health Check")
    assert health.error is None and health.output["plex"] == "ok" and health.output["token"] == "accepted"
    synced = harness.task("Sync All Scenes")
    assert synced.error is None, synced.error
    first = lib.SCENES[0].relative_path
    assert harness.plex.item(rating_keys[first]).fields["title"] == "Harbour Lights"

    harness.stash.update_scene(scene_ids[first], title="Harbour Lights (remastered)")
    hooked = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[first]), input={"title": "x"},
                                     input_fields=["title"])
    assert hooked.error is None and hooked.output["queued"] == "scene", hooked.error
    harness.wait_idle()
    assert harness.plex.item(rating_keys[first]).fields["title"] == "Harbour Lights (remastered)"

    dumps = [json.loads(path.read_text(encoding="utf-8")) for path in probe.glob("modules-*.json")]
    assert len(dumps) >= 4  # the task, its worker, the hook (and its worker), the status reads
    allowed = [plugin_dir, Path(python).parent.parent, probe, Path(os.__file__).parent]
    for modules in dumps:
        for name, file in modules.items():
            resolved = Path(file).resolve()
            assert REPO not in resolved.parents, f"{name} came from the checkout: {file}"
            assert any(resolved.is_relative_to(Path(root).resolve()) for root in allowed), f"{name}: {file}"
        ours = {name: file for name, file in modules.items() if name.split(".")[0] in {"hooks", "sync_queue"}}
        assert ours and all(Path(file).resolve().is_relative_to(plugin_dir.resolve()) for file in ours.values())
