"""A package Stash's Python lacks is installed with that Python's pip into the data folder, within
requirements.txt's bounds, and the message when it cannot be never promises what will not happen.

Installs come from a local wheel folder (PIP_NO_INDEX: no test reaches PyPI). The end-to-end run on Stash's
folder layout is tests/e2e/install/test_dependency_manager.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.install.release_env import tiny_wheel
from validation import dependencies, install_help
from validation.dependencies import (RequirementsMissing, install_requirements, packages_dir, read_attempt,
                                     run_with_requirements, use_installed)
from validation.install_help import missing_dependency_message, quote, runtime_requirements

PROBE = "plexsync_probe_pkg"


def probe_wheel(folder: Path, version: str) -> Path:
    """A minimal pure-Python wheel of the probe package that records its own version."""
    return tiny_wheel(folder, "plexsync-probe-pkg", PROBE, version, f"VERSION = {version!r}\n")


@pytest.fixture()
def layout(tmp_path, monkeypatch):
    """(plugin folder as Stash's package manager lays it out, data folder, local wheel folder); pip reads only
    the wheel folder, which offers a release inside the bounds and a newer one outside them."""
    plugin_dir = tmp_path / "config" / "plugins" / "some-source" / "PlexSync"
    plugin_dir.mkdir(parents=True)
    (plugin_dir / "requirements.txt").write_text("# comment\nplexsync-probe-pkg>=1,<2  # made up\n")
    wheels = tmp_path / "wheels"
    probe_wheel(wheels, "1.5")
    probe_wheel(wheels, "2.0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setattr(install_help, "in_container", lambda: False)  # the command as typed, not via docker exec
    saved_path = list(sys.path)
    yield plugin_dir, tmp_path / "config" / "plugin_data" / "PlexSync", wheels
    sys.path[:] = saved_path
    sys.modules.pop(PROBE, None)


def needs_probe() -> str:
    import plexsync_probe_pkg  # noqa: F401  (missing until installed)

    return plexsync_probe_pkg.VERSION


def test_requirements_map_to_their_import_names(layout):
    plugin_dir, _, _ = layout
    (plugin_dir / "requirements.txt").write_text("plexsync-probe-pkg>=1,<2\nstashapp-tools>=0.2.58,<0.3\n")
    assert runtime_requirements(str(plugin_dir)) == {PROBE: "plexsync-probe-pkg>=1,<2",
                                                     "stashapi": "stashapp-tools>=0.2.58,<0.3"}
    assert runtime_requirements(str(plugin_dir / "nowhere")) == {}


def test_a_missing_package_is_installed_within_the_bounds_and_found_again_by_the_next_run(layout, capfd):
    plugin_dir, data_dir, _ = layout
    assert run_with_requirements(needs_probe, plugin_dir, data_dir) == "1.5"  # 2.0 is newer but outside <2
    target = packages_dir(plugin_dir, data_dir)
    assert target.parent == data_dir / "python-packages" and (target / f"{PROBE}-1.5.dist-info").is_dir()
    assert capfd.readouterr().out == ""  # pip's output never reaches stdout, Stash's JSON channel
    assert read_attempt(data_dir)["ok"] is True
    sys.path.remove(str(target))
    sys.modules.pop(PROBE)
    assert use_installed(plugin_dir, data_dir) and needs_probe() == "1.5"  # the next run: no pip at all


def test_new_bounds_in_requirements_install_a_new_set_and_drop_the_old(layout):
    plugin_dir, data_dir, _ = layout
    old = install_requirements(plugin_dir, data_dir, PROBE)
    (plugin_dir / "requirements.txt").write_text("plexsync-probe-pkg>=2\n")
    new = install_requirements(plugin_dir, data_dir, PROBE)
    assert new != old and (new / f"{PROBE}-2.0.dist-info").is_dir() and not old.exists()


def test_a_failed_install_says_why_and_the_worker_does_not_retry_at_once(layout, monkeypatch):
    plugin_dir, data_dir, wheels = layout
    for wheel in wheels.iterdir():
        wheel.unlink()  # nothing to install from: pip fails, as it does offline
    with pytest.raises(RequirementsMissing) as failed:
        run_with_requirements(needs_probe, plugin_dir, data_dir)
    message = str(failed.value)
    assert "tried to install its requirements into" in message and "pip failed:" in message
    assert f"-m pip install -r {quote(str(plugin_dir / 'requirements.txt'))} --target" in message
    assert not packages_dir(plugin_dir, data_dir).exists()  # nothing half-installed looks installed
    assert read_attempt(data_dir)["ok"] is False

    def no_pip(*args, **kwargs):
        raise AssertionError("the worker ran pip again right after a failure")

    monkeypatch.setattr(dependencies.subprocess, "run", no_pip)
    with pytest.raises(RequirementsMissing, match="waits half an hour"):
        run_with_requirements(needs_probe, plugin_dir, data_dir, automatic=True)


def test_a_killed_install_is_not_used(layout):
    plugin_dir, data_dir, _ = layout
    target = packages_dir(plugin_dir, data_dir)
    half = target.with_name(target.name + ".partial-99999")
    (half / PROBE).mkdir(parents=True)
    (half / PROBE / "__init__.py").write_text("VERSION = 'half'\n")
    assert not use_installed(plugin_dir, data_dir) and str(half) not in sys.path


def test_only_missing_third_party_packages_start_an_install(layout):
    plugin_dir, data_dir, _ = layout
    (plugin_dir / "requirements.txt").write_text("")  # every requirement importable

    def broken(name):
        def work():
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return work

    for name in ("worker.gone", "_sqlite3"):  # ours, or the standard library's: pip cannot help
        with pytest.raises(ModuleNotFoundError) as raised:
            run_with_requirements(broken(name), plugin_dir, data_dir)
        assert not isinstance(raised.value, RequirementsMissing)
    assert read_attempt(data_dir) is None


def test_without_pip_the_message_asks_for_pip_and_promises_no_install(layout, monkeypatch):
    plugin_dir, data_dir, _ = layout
    monkeypatch.setattr(dependencies, "pip_available", lambda: False)
    with pytest.raises(RequirementsMissing) as failed:
        run_with_requirements(needs_probe, plugin_dir, data_dir)
    message = str(failed.value)
    assert "has no pip, so PlexSync cannot install" in message and "apk add py3-pip" in message
    assert "--target" not in message and "PythonDepManager" not in message and read_attempt(data_dir) is None


def test_the_command_quotes_paths_with_spaces(tmp_path, monkeypatch):
    monkeypatch.delenv("STASH_CONFIG_FILE", raising=False)
    monkeypatch.setattr(install_help, "in_container", lambda: False)
    plugin_dir = str(tmp_path / "My Stash" / "plugins" / "PlexSync")
    message = missing_dependency_message("plexapi", plugin_dir, python="/usr/bin/python3", managed=False)
    assert message.endswith(f"/usr/bin/python3 -m pip install -r {quote(plugin_dir + '/requirements.txt')}")
    target = str(tmp_path / "My Stash" / "plugin_data" / "PlexSync" / "python-packages" / "x")
    told = missing_dependency_message("plexapi", plugin_dir, python="/usr/bin/python3", target=target, has_pip=True)
    assert f"--target {quote(target)}" in told and "installs PlexSync's requirements into" in told
    assert quote("/a b/c") == "'/a b/c'"

