"""A Stash Python without PlexSync's packages, on Stash's real folder layout: PlexSync installed from its own
plugin source into ``plugins/<source>/PlexSync`` with only ``plugins/<source>`` on PYTHONPATH (pkg/plugin/raw.go).

Its first task installs requirements.txt with that Python's pip into the data folder, taking only versions
inside the bounds although newer ones are offered (a local wheel folder stands for PyPI: PIP_NO_INDEX, offline);
then Health Check answers and a hook's background worker syncs on those packages, and no hook ever installs
anything or even loads the installer. Without pip, the one message says so and promises nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plugin_runner import PluginRunner
from tests.e2e.install.release_env import (bare_venv, decoy_wheel, install_from_source, python_with_pip, wheel_folder,
                                   write_probe)
from tools.make_release import build

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """(the built plugin source, a wheel folder for requirements.txt plus out-of-bounds decoys, a Python with pip)."""
    root = tmp_path_factory.mktemp("depinstall")
    build(root / "dist")
    wheels = wheel_folder(REPO / "requirements.txt", root / "wheels")
    decoy_wheel(wheels, "persist-queue", "persistqueue", "1.2.0")  # requirements.txt: <1.2
    decoy_wheel(wheels, "PlexAPI", "plexapi", "4.19.0")  # requirements.txt: <4.19
    return root / "dist", wheels, python_with_pip(root / "python")


def stash_env(wheels: Path | None, probe: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIRTUAL_ENV", "COV_", "COVERAGE", "PYTHONPATH", "PLEXSYNC_", "PIP_"))}
    env.update({"PIP_NO_INDEX": "1", "PYTHONPATH": str(probe), "PLEXSYNC_IMPORT_PROBE": str(probe)})
    if wheels is not None:
        env["PIP_FIND_LINKS"] = str(wheels)
    return env


def installed_plugin(harness, dist: Path, python: Path, env: dict[str, str], cwd: Path) -> Path:
    plugin_dir = install_from_source(dist, harness.stash_dir / "plugins")
    assert plugin_dir == harness.stash_dir / "plugins" / "plexsync-source" / "PlexSync"
    connection = harness.stash.server_connection(data_dir=str(harness.stash_dir), plugin_dir=str(plugin_dir))
    harness.runner = PluginRunner(plugin_dir, connection, python=str(python), env=env, cwd=cwd)
    return plugin_dir


def test_the_first_task_installs_the_requirements_within_their_bounds_and_everything_runs(release, harness,
                                                                                         tmp_path):
    dist, wheels, python = release
    probe = write_probe(tmp_path / "probe")
    installed_plugin(harness, dist, python, stash_env(wheels, probe), tmp_path / "cwd")
    _, rating_keys = lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)

    health = harness.task("Health Check")
    assert health.error is None and health.output["plex"] == "ok", health.error
    assert any(level == "info" and "installing PlexSync's requirements" in text for level, text in health.logs)
    [folder] = [path for path in (harness.data_dir / "python-packages").iterdir() if path.is_dir()]
    versions = {path.name for path in folder.glob("*.dist-info")}
    assert {"persist_queue-1.1.0.dist-info", "plexapi-4.18.3.dist-info"} <= versions
    assert not [name for name in versions if name.startswith(("persist_queue-1.2", "plexapi-4.19"))]

    first = lib.SCENES[0].relative_path
    harness.stash.update_scene(scene_ids[first], title="Installed and synced")
    hooked = harness.runner.run_hook("Scene.Update.Post", int(scene_ids[first]), input={"title": "x"},
                                     input_fields=["title"])
    assert hooked.error is None and hooked.output["queued"] == "scene", hooked.error
    harness.wait_idle()  # the background worker the hook started finds the installed packages without pip
    assert harness.plex.item(rating_keys[first]).fields["title"] == "Installed and synced"
    assert "installing" not in (harness.data_dir / "logs" / "worker.log").read_text(encoding="utf-8")
    for dump in probe.glob("modules-*.json"):
        modules = json.loads(dump.read_text(encoding="utf-8"))
        if "hooks.intake" in modules:  # a hook's process: nothing of the installer, nothing of pip
            assert not {"validation.dependencies", "pip"} & set(modules), sorted(modules)


def test_without_pip_the_one_message_asks_for_pip_and_promises_nothing_else(release, harness, tmp_path):
    dist, _, _ = release
    probe = write_probe(tmp_path / "probe")
    python = bare_venv(tmp_path / "bare")
    env = stash_env(None, probe)
    plugin_dir = installed_plugin(harness, dist, python, env, tmp_path / "cwd")
    result = harness.task("Process Queue")
    assert result.exit_code == 0 and not result.protocol_errors
    assert result.error.startswith("PlexSync needs the Python package ") and "has no pip" in result.error
    assert "PythonDepManager" not in result.error and "--target" not in result.error
    assert ("error", result.error) in result.logs  # the user sees it in Stash's log, not only in the task
    assert not (harness.data_dir / "python-packages").exists()
    typed = subprocess.run([str(python), str(plugin_dir / "PlexSync.py"), "status"], capture_output=True, text=True,
                           env={**env, "PLEXSYNC_DATA_DIR": str(harness.data_dir)}, cwd=tmp_path, timeout=60)
    assert typed.returncode == 1 and "Traceback" not in typed.stderr  # the command line: the same words
    assert typed.stderr.strip() == f"PlexSync: {result.error}"
