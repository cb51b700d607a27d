"""What to tell a user whose Stash Python lacks one of PlexSync's packages (the peer's most common support issue).

A plain ``pip install`` is refused by "externally managed" Pythons (PEP 668: the official Alpine Docker image,
Debian, TrueNAS), and a ``--break-system-packages`` install into a container is gone after the next image
update. There, a virtual environment inside Stash's config folder (a persistent volume) plus Stash's own
*Python executable path* setting survives updates. Standard library only: it runs when imports have failed.
"""

from __future__ import annotations

import os
import sys
import sysconfig


def externally_managed(stdlib_dir: str | None = None) -> bool:
    """True when pip refuses to install into this Python (PEP 668's marker file)."""
    folder = stdlib_dir if stdlib_dir is not None else sysconfig.get_path("stdlib")
    return bool(folder) and os.path.isfile(os.path.join(folder, "EXTERNALLY-MANAGED"))


def missing_dependency_message(package: str | None, plugin_dir: str, *, python: str | None = None,
                               managed: bool | None = None) -> str:
    python = python or sys.executable
    requirements = os.path.join(plugin_dir, "requirements.txt")
    head = (f"PlexSync needs the Python package {package!r}, which Stash's Python ({python}) cannot import. "
            "Install PlexSync's requirements for that Python: ")
    if not (externally_managed() if managed is None else managed):
        return head + f"{python} -m pip install -r {requirements}"
    config_dir = stash_config_dir(plugin_dir) or os.path.dirname(os.path.abspath(plugin_dir))
    venv = os.path.join(config_dir, "plexsync-venv")
    scripts = os.path.join(venv, "Scripts" if os.name == "nt" else "bin")
    return head + (f"this Python is externally managed (PEP 668, e.g. Stash's Docker image), so make a virtual "
                   f"environment in Stash's config folder, where it survives image updates: "
                   f"{python} -m venv {venv} && {os.path.join(scripts, 'pip')} install -r {requirements}; "
                   f"then set Settings → System → Application Paths → Python executable path to "
                   f"{os.path.join(scripts, 'python')}")


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
