"""What to tell a user whose Stash Python lacks one of PlexSync's packages (the peer's most common support issue).

A plain ``pip install`` is refused by "externally managed" Pythons (PEP 668: the official Alpine Docker image,
Debian, TrueNAS), and a ``--break-system-packages`` install into a container is gone after the next image
update. There, a virtual environment inside Stash's config folder (a persistent volume) plus Stash's own
*Python executable path* setting survives updates. Standard library only: it runs when imports have failed.

When the community plugin PythonDepManager is installed (importable because Stash puts the plugins folder on
PYTHONPATH), PlexSync asks it for the packages instead, and only after an import has failed: a working install
never pays for the check.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from typing import Iterator

DEPENDENCY_MANAGER = "PythonDepManager"
IMPORT_NAMES = {"stashapp-tools": "stashapi", "persist-queue": "persistqueue"}  # pip name → import name
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def externally_managed(stdlib_dir: str | None = None) -> bool:
    """True when pip refuses to install into this Python (PEP 668's marker file)."""
    folder = stdlib_dir if stdlib_dir is not None else sysconfig.get_path("stdlib")
    return bool(folder) and os.path.isfile(os.path.join(folder, "EXTERNALLY-MANAGED"))


def missing_dependency_message(package: str | None, plugin_dir: str, *, python: str | None = None,
                               managed: bool | None = None) -> str:
    """One line naming the package and the exact command that installs PlexSync's requirements here."""
    python = python or sys.executable
    requirements = os.path.join(plugin_dir, "requirements.txt")
    head = (f"PlexSync needs the Python package {package!r}, which Stash's Python ({python}) cannot import "
            f"(with the {DEPENDENCY_MANAGER} plugin installed, PlexSync fetches it itself). "
            "Install PlexSync's requirements for that Python: ")
    if not (externally_managed() if managed is None else managed):
        return head + f"{quote(python)} -m pip install -r {quote(requirements)}"
    config_dir = stash_config_dir(plugin_dir) or os.path.dirname(os.path.abspath(plugin_dir))
    venv = os.path.join(config_dir, "plexsync-venv")
    scripts = os.path.join(venv, "Scripts" if os.name == "nt" else "bin")
    command = (f"{quote(python)} -m venv {quote(venv)} && "
               f"{quote(os.path.join(scripts, 'pip'))} install -r {quote(requirements)}")
    if in_container():
        command = f"docker exec <stash container> sh -c {shlex.quote(command)} (from the host)"
    return head + (f"this Python is externally managed (PEP 668, e.g. Stash's Docker image or Homebrew), so make "
                   f"a virtual environment in Stash's config folder, where it survives updates: {command}; "
                   f"then set Settings → System → Application Paths → Python executable path to "
                   f"{os.path.join(scripts, 'python')}")


def quote(path: str) -> str:
    """A path as the platform's shell wants it pasted (spaces in "C:\\Program Files" included)."""
    return subprocess.list2cmdline([path]) if os.name == "nt" else shlex.quote(path)


def in_container(markers: tuple[str, ...] = ("/.dockerenv", "/run/.containerenv")) -> bool:
    return any(os.path.exists(marker) for marker in markers)


def stash_config_dir(plugin_dir: str | os.PathLike[str]) -> str | None:
    """Stash's config folder: where ``STASH_CONFIG_FILE`` lives (set in the Docker image), else the folder
    that holds ``plugins/`` (plugins may sit a level deeper, in a plugin source's own folder); None when
    the plugin is not inside a Stash install (a development checkout)."""
    config_file = os.environ.get("STASH_CONFIG_FILE")
    if config_file:
        return os.path.dirname(os.path.abspath(config_file))
    folder = os.path.abspath(plugin_dir)
    while os.path.dirname(folder) != folder:
        if os.path.basename(folder) == "plugins":
            return os.path.dirname(folder)
        folder = os.path.dirname(folder)
    return None


def runtime_requirements(plugin_dir: str) -> dict[str, str]:
    """requirements.txt as ``{import name: requirement line}`` (the file ships in the plugin folder)."""
    found: dict[str, str] = {}
    try:
        with open(os.path.join(plugin_dir, "requirements.txt"), encoding="utf-8") as listing:
            lines = listing.readlines()
    except OSError:  # a copy without it: nothing to fetch, the import error's own message stands
        return found
    for line in lines:
        requirement = line.split("#", 1)[0].strip()
        if requirement and not requirement.startswith("-"):
            pip_name = _pip_name(requirement)
            found[IMPORT_NAMES.get(pip_name, pip_name.replace("-", "_"))] = requirement
    return found


def missing_imports(import_names: "list[str] | dict[str, str]") -> list[str]:
    importlib.invalidate_caches()
    return [name for name in import_names if importlib.util.find_spec(name) is None]


def fetch_with_dependency_manager(plugin_dir: str) -> bool:
    """After an import failed: when PythonDepManager is installed, let it provide every missing requirement.

    True when it did and they now import; False when it is not installed, nothing was missing, or it failed
    (then the caller gives the install command). Its own output never reaches stdout, Stash's JSON channel.
    """
    requirements = runtime_requirements(plugin_dir)
    missing = missing_imports(requirements)
    if not missing or importlib.util.find_spec(DEPENDENCY_MANAGER) is None:
        return False
    from validation.stash_log import get_logger

    log = get_logger("install")
    specs = [requirement if name == _pip_name(requirement) else f"{name}:{requirement}"
             for name, requirement in requirements.items() if name in missing]
    log.info("Asking %s for %s", DEPENDENCY_MANAGER, ", ".join(specs))
    try:
        with _stdout_kept_clean() as captured:
            importlib.import_module(DEPENDENCY_MANAGER).ensure_import(*specs)
    except (Exception, SystemExit) as exc:  # its failure (even sys.exit) must become our clear message
        log.warning("%s could not provide %s: %s", DEPENDENCY_MANAGER, ", ".join(missing), exc)
        return False
    if captured.getvalue().strip():
        log.debug("%s said: %s", DEPENDENCY_MANAGER, captured.getvalue().strip())
    return not missing_imports(requirements)


def _pip_name(requirement: str) -> str:
    match = _REQUIREMENT_NAME.match(requirement)
    return match.group(1).lower() if match else requirement


@contextlib.contextmanager
def _stdout_kept_clean() -> Iterator[io.StringIO]:
    """Python prints go to a buffer and child processes' (pip's) to the null device while this runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
        with contextlib.redirect_stdout(io.StringIO()) as captured:
            yield captured
    finally:
        os.dup2(saved, 1)
        os.close(saved)
