"""What to tell a user whose Stash Python lacks one of PlexSync's packages (the peer's most common support issue).

PlexSync installs them itself when it can (validation.dependencies): with the pip of the Python Stash runs,
into its data folder. These messages say what happened when it could not, and the command that does the same
by hand: the same pip install when that Python has pip, else how to give it pip. Without a data folder to name
(a message on its own), the classic ways: ``pip install -r`` into that Python, or, where pip refuses
("externally managed", PEP 668: the official Alpine Docker image, Debian, Homebrew), a virtual environment in
Stash's config folder (a volume that survives updates) plus Stash's own *Python executable path* setting.
Standard library only: it runs when imports have failed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import sysconfig

IMPORT_NAMES = {"stashapp-tools": "stashapi", "persist-queue": "persistqueue"}  # pip name → import name
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_GET_PIP = ("install pip for that Python (Stash's Docker image and Alpine: apk add py3-pip; Debian and Ubuntu: "
            "apt install python3-pip; the python.org installers for Windows and macOS include it), then run any "
            "PlexSync task again: it installs the rest itself")


def externally_managed(stdlib_dir: str | None = None) -> bool:
    """True when pip refuses to install into this Python (PEP 668's marker file)."""
    folder = stdlib_dir if stdlib_dir is not None else sysconfig.get_path("stdlib")
    return bool(folder) and os.path.isfile(os.path.join(folder, "EXTERNALLY-MANAGED"))


def pip_available() -> bool:
    return importlib.util.find_spec("pip") is not None


def missing_dependency_message(package: str | None, plugin_dir: str, *, target: str | None = None,
                               attempt: str | None = None, python: str | None = None,
                               managed: bool | None = None, has_pip: bool | None = None) -> str:
    """One paragraph: the package, what PlexSync's own install did (``attempt``: None when it was not tried,
    ``"no_pip"``, ``"earlier: <why>"`` for the worker's pause after a failure, else why it failed) and the
    exact command for this install. ``target``: the folder PlexSync installs into (None: not known here)."""
    python = python or sys.executable
    requirements = os.path.join(plugin_dir, "requirements.txt")
    has_pip = pip_available() if has_pip is None else has_pip
    head = f"PlexSync needs the Python package {package!r}, which Stash's Python ({python}) cannot import. "
    if target is None:
        return head + "Install PlexSync's requirements for that Python: " + _classic_command(
            python, plugin_dir, requirements, managed)
    if attempt == "no_pip" or not has_pip:
        return head + "That Python has no pip, so PlexSync cannot install its requirements itself: " + _GET_PIP
    command = _in_container(f"{quote(python)} -m pip install -r {quote(requirements)} --target {quote(target)}")
    if attempt is None:
        return head + (f"A PlexSync task run in Stash installs PlexSync's requirements into {target} by itself; "
                       f"or run: {command}")
    if attempt.startswith("earlier: "):
        return (head + f"Installing PlexSync's requirements failed a short while ago ({attempt[9:]}); the background "
                f"worker waits half an hour before it tries again, a task tries at once. Or run: {command}")
    return (head + f"PlexSync tried to install its requirements into {target} with that Python's pip: {attempt}. "
            f"Fix that and run the task again, or run: {command}")


def _classic_command(python: str, plugin_dir: str, requirements: str, managed: bool | None) -> str:
    if not (externally_managed() if managed is None else managed):
        return f"{quote(python)} -m pip install -r {quote(requirements)}"
    config_dir = stash_config_dir(plugin_dir) or os.path.dirname(os.path.abspath(plugin_dir))
    venv = os.path.join(config_dir, "plexsync-venv")
    scripts = os.path.join(venv, "Scripts" if os.name == "nt" else "bin")
    command = _in_container(f"{quote(python)} -m venv {quote(venv)} && "
                            f"{quote(os.path.join(scripts, 'pip'))} install -r {quote(requirements)}")
    return (f"this Python is externally managed (PEP 668, e.g. Stash's Docker image or Homebrew), so make "
            f"a virtual environment in Stash's config folder, where it survives updates: {command}; "
            f"then set Settings → System → Application Paths → Python executable path to "
            f"{os.path.join(scripts, 'python')}")


def _in_container(command: str) -> str:
    """Inside a container the user types the command on the host, through ``docker exec``."""
    return f"docker exec <stash container> sh -c {shlex.quote(command)} (from the host)" if in_container() else command


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


def _pip_name(requirement: str) -> str:
    match = _REQUIREMENT_NAME.match(requirement)
    return match.group(1).lower() if match else requirement
