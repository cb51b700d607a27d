"""How a missing package is fetched through PythonDepManager, in-process (the end-to-end runs are in
tests/e2e/test_dependency_manager.py): what it is asked for, that its output stays off stdout, and that
its failure turns into our message instead of a crash."""

from __future__ import annotations

import sys

import pytest

from validation.install_help import (fetch_with_dependency_manager, missing_dependency_message, quote,
                                     runtime_requirements)

FAKE = '''\
import os, sys

FOLDER = {folder!r}
calls = []


def ensure_import(*requirements):
    calls.append(list(requirements))
    if {fail!r}:
        sys.exit("pip is not installed")
    print("Collecting", *requirements)
    os.system("echo pip output")
    os.makedirs(os.path.join(FOLDER, "plexsync_probe_pkg"), exist_ok=True)
    open(os.path.join(FOLDER, "plexsync_probe_pkg", "__init__.py"), "w").close()
    sys.path.insert(0, FOLDER)
'''


@pytest.fixture()
def plugin_dir(tmp_path):
    folder = tmp_path / "plugins" / "PlexSync"
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text(
        "# comment\n-r other.txt\nplexsync-probe-pkg>=1,<2  # made up\nstashapp-tools>=0.2.58,<0.3\n")
    yield folder
    for name in ("PythonDepManager", "plexsync_probe_pkg"):
        sys.modules.pop(name, None)
    deps = str(tmp_path / "deps")
    sys.path[:] = [entry for entry in sys.path if entry != deps]


def install_fake(plugin_dir, monkeypatch, fail=False):
    (plugin_dir.parent / "PythonDepManager.py").write_text(
        FAKE.format(folder=str(plugin_dir.parent.parent / "deps"), fail=fail))
    monkeypatch.syspath_prepend(str(plugin_dir.parent))  # what Stash's PYTHONPATH entry does


def test_requirements_map_to_their_import_names(plugin_dir):
    assert runtime_requirements(str(plugin_dir)) == {"plexsync_probe_pkg": "plexsync-probe-pkg>=1,<2",
                                                     "stashapi": "stashapp-tools>=0.2.58,<0.3"}
    assert runtime_requirements(str(plugin_dir / "nowhere")) == {}


def test_the_manager_is_asked_only_for_what_is_missing_and_its_output_stays_off_stdout(plugin_dir, monkeypatch,
                                                                                       capfd):
    install_fake(plugin_dir, monkeypatch)
    assert fetch_with_dependency_manager(str(plugin_dir)) is True
    assert sys.modules["PythonDepManager"].calls == [["plexsync_probe_pkg:plexsync-probe-pkg>=1,<2"]]
    assert capfd.readouterr().out == ""
    assert fetch_with_dependency_manager(str(plugin_dir)) is False  # nothing missing now: not asked again
    assert len(sys.modules["PythonDepManager"].calls) == 1


def test_a_failing_manager_leaves_the_clear_message_to_the_caller(plugin_dir, monkeypatch):
    install_fake(plugin_dir, monkeypatch, fail=True)
    assert fetch_with_dependency_manager(str(plugin_dir)) is False
    assert sys.modules["PythonDepManager"].calls


def test_without_the_manager_nothing_is_fetched(plugin_dir):
    assert fetch_with_dependency_manager(str(plugin_dir)) is False


def test_the_command_quotes_paths_with_spaces(tmp_path, monkeypatch):
    monkeypatch.delenv("STASH_CONFIG_FILE", raising=False)
    plugin_dir = str(tmp_path / "My Stash" / "plugins" / "PlexSync")
    message = missing_dependency_message("plexapi", plugin_dir, python="/usr/bin/python3", managed=False)
    assert message.endswith(f"/usr/bin/python3 -m pip install -r {quote(plugin_dir + '/requirements.txt')}")
    assert quote("/a b/c") == "'/a b/c'" and "PythonDepManager" in message
