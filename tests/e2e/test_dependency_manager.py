"""A Stash Python without PlexSync's packages: PythonDepManager provides them when it is installed; without it,
one clear error names the package and the command. A working install never even imports PythonDepManager.

The fake PythonDepManager sits in the plugins folder, importable through the PYTHONPATH entry Stash adds
(stash-protocol.md §1.2), and does what the real one does to the caller (stash-protocol.md §8): puts a folder
holding the requested packages first on ``sys.path``; it also records each call and prints to stdout, as
pip would, to prove Stash's JSON channel stays clean.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from emulators.plugin_runner import PluginRunner
from tests.e2e.release_env import bare_venv, site_packages, unpack, venv_from_requirements
from tools.make_release import build
from validation.install_help import runtime_requirements

pytestmark = pytest.mark.e2e

FAKE_DEP_MANAGER = '''\
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(HERE, "imported"), "a").close()


def ensure_import(*requirements):
    with open(os.path.join(HERE, "calls.jsonl"), "a", encoding="utf-8") as calls:
        calls.write(json.dumps(list(requirements)) + "\\n")
    print("Collecting " + ", ".join(requirements))
    os.system("echo pip wrote this to its stdout")
    sys.path.insert(0, {packages!r})
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(plugins folder with PlexSync unpacked, a Python with no packages, a folder with the requirements)."""
    root = tmp_path_factory.mktemp("depmanager")
    plugin_dir = unpack(build(root / "dist"), root / "plugins")
    packages = site_packages(venv_from_requirements(plugin_dir / "requirements.txt", root / "deps"))
    return root / "plugins", bare_venv(root / "bare"), packages


def runner(plugins: Path, python: Path | str, data_dir: Path) -> PluginRunner:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIRTUAL_ENV", "COV_", "COVERAGE", "PYTHONPATH", "PLEXSYNC_"))}
    connection = {"Scheme": "http", "Host": "127.0.0.1", "Port": 9, "Dir": str(data_dir),
                  "PluginDir": str(plugins / "PlexSync")}
    return PluginRunner(plugins / "PlexSync", connection, python=str(python), env=env, cwd=data_dir / "cwd")


@pytest.fixture()
def dep_manager(installed):
    plugins, _, packages = installed
    folder = plugins / "PythonDepManager"
    folder.mkdir()
    (folder / "__init__.py").write_text(FAKE_DEP_MANAGER.format(packages=str(packages)), encoding="utf-8")
    yield folder
    shutil.rmtree(folder)


def test_without_it_a_missing_package_is_one_clear_error_with_the_command(installed, tmp_path):
    plugins, bare_python, _ = installed
    result = runner(plugins, bare_python, tmp_path).run_task("Process Queue")  # Queue Status needs no package
    assert result.exit_code == 0 and not result.protocol_errors
    assert result.error.startswith("PlexSync needs the Python package ")
    assert str(plugins / "PlexSync" / "requirements.txt") in result.error
    assert "pip install -r" in result.error and "PythonDepManager" in result.error
    assert ("error", result.error) in result.logs  # the user sees it in Stash's log, not only in the task


def test_with_it_the_packages_are_fetched_and_the_task_runs(installed, dep_manager, tmp_path):
    plugins, bare_python, _ = installed
    result = runner(plugins, bare_python, tmp_path).run_task("Process Queue")
    # the packages arrived; what stops the task now is that no Stash listens on port 9, said plainly
    assert result.error and "needs the Python package" not in result.error and "Stash" in result.error, result.error
    assert not result.protocol_errors  # its prints and pip's never reached Stash's JSON channel
    calls = [json.loads(line) for line in (dep_manager / "calls.jsonl").read_text(encoding="utf-8").splitlines()]
    wanted = [f"{name}:{line}" if not line.startswith(name) else line
              for name, line in runtime_requirements(str(plugins / "PlexSync")).items()]
    assert calls == [wanted] and any(line.startswith("plexapi>=") for line in wanted)


def test_a_working_install_never_imports_it_on_the_hook_path(installed, dep_manager, tmp_path):
    plugins, bare_python, packages = installed
    hook = runner(plugins, bare_python, tmp_path)
    hook.env = {**hook.env, "PYTHONPATH": str(packages)}  # everything importable: the common case
    result = hook.run_hook("Scene.Update.Post", 7, input={"title": "x"}, input_fields=["title"])
    assert result.error is None and result.output["queued"] == "scene", result.error
    assert not (dep_manager / "imported").exists()
