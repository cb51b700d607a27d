"""An installed copy of the release, as Stash's package manager leaves it, and Pythons to run it with.

The Python for the installed copy is a fresh virtual environment holding exactly the distributions that
the zip's requirements.txt resolves to (each requirement and its dependencies, recursively), copied file by
file (their RECORD) from the environment running the tests: the same versions CI installed from PyPI, made
offline in a second, with no pytest, mkdocs, emulator or repository on its path. The environment's
versions are checked against the zip's specifiers, so a requirements.txt that no longer fits fails here.
"""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

PROBE = '''\
import atexit, json, os, sys


def _dump():
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    path = os.path.join(os.environ["PLEXSYNC_IMPORT_PROBE"], "modules-%d.json" % os.getpid())
    with open(path, "w", encoding="utf-8") as out:
        json.dump({name: file for name, file in files.items() if file}, out)


atexit.register(_dump)
'''


def unpack(zip_path: Path, plugins_dir: Path, plugin_id: str = "PlexSync") -> Path:
    """What the package manager does with a source's zip: unpack it into ``<plugins>/<id>/``."""
    target = plugins_dir / plugin_id
    target.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    return target


def bare_venv(target: Path) -> Path:
    """A virtual environment with the standard library only; returns its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=120)
    return venv_python(target)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def site_packages(python: Path) -> Path:
    found = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    return Path(found)


def requirement_closure(requirements_txt: Path) -> list[metadata.Distribution]:
    """The installed distributions that requirements.txt needs, each checked against its specifier."""
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(line.split("#", 1)[0].strip())
               for line in requirements_txt.read_text(encoding="utf-8").splitlines()
               if line.split("#", 1)[0].strip() and not line.startswith("-")]
    while pending:
        requirement = pending.pop()
        dist = metadata.distribution(requirement.name)
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise AssertionError(f"{requirement} does not match the installed {requirement.name} {dist.version}")
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                pending.append(needed)
    return list(found.values())


def venv_from_requirements(requirements_txt: Path, target: Path) -> Path:
    """A venv with only requirements.txt's distributions in it (see the module docstring); its interpreter."""
    python = bare_venv(target)
    destination = site_packages(python)
    for dist in requirement_closure(requirements_txt):
        for file in dist.files or []:
            if file.parts[0] == ".." or file.suffix == ".pyc":  # console scripts live outside site-packages
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                (destination / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / file)
    return python


def write_probe(folder: Path) -> Path:
    """A ``sitecustomize`` that records, at exit, the file behind every module a process imported."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    return folder
