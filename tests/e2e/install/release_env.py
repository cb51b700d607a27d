"""An installed copy of the release, as Stash's package manager leaves it, and Pythons to run it with.

The copy is installed from the built plugin source (index.yml + zip) served over HTTP, by the imitation of
Stash's package manager (emulators/package_manager.py): into ``<plugins>/<source's local path>/PlexSync``, the
folder above it being the only one Stash adds to PYTHONPATH.

The Python for the installed copy is a fresh virtual environment holding exactly the distributions that
the zip's requirements.txt resolves to (each requirement and its dependencies, recursively), copied file by
file (their RECORD) from the environment running the tests: the same versions CI installed from PyPI, made
offline in a second, with no pytest, mkdocs, emulator or repository on its path. The environment's
versions are checked against the zip's specifiers, so a requirements.txt that no longer fits fails here.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata as metadata
import shutil
import subprocess
import sys
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from packaging.requirements import Requirement

from emulators import package_manager

SOURCE_LOCAL_PATH = "plexsync-source"  # the "Local Path" a user gives the source (Stash's default one is "community")

PROBE = '''\
import atexit, json, os, sys


def _dump():
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    path = os.path.join(os.environ["PLEXSYNC_IMPORT_PROBE"], "modules-%d.json" % os.getpid())
    with open(path, "w", encoding="utf-8") as out:
        json.dump({name: file for name, file in files.items() if file}, out)


atexit.register(_dump)
'''


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on a free loopback port, as a plugin source's host would serve it; the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def install_from_source(dist: Path, plugins_dir: Path, local_path: str = SOURCE_LOCAL_PATH) -> Path:
    """Add ``dist`` (index.yml + zip) as a plugin source and install PlexSync from it, as Stash does."""
    with served(dist) as url:
        return package_manager.install(f"{url}/index.yml", "PlexSync", plugins_dir, local_path)


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
        _copy_distribution(dist, destination)
    return python


def write_probe(folder: Path) -> Path:
    """A ``sitecustomize`` that records, at exit, the file behind every module a process imported."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    return folder


def python_with_pip(target: Path) -> Path:
    """A Python like a Stash host's: the standard library and pip, nothing else (pip copied from this
    environment, offline, as venv_from_requirements copies distributions)."""
    python = bare_venv(target)
    _copy_distribution(metadata.distribution("pip"), site_packages(python))
    return python


def _copy_distribution(dist: metadata.Distribution, destination: Path) -> None:
    for file in dist.files or []:
        if file.parts[0] == ".." or file.suffix == ".pyc":
            continue
        source = Path(str(dist.locate_file(file)))
        if source.is_file():
            (destination / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / file)


def wheel_folder(requirements_txt: Path, target: Path) -> Path:
    """Wheels of the distributions requirements.txt resolves to, repacked from this environment's installed
    files (a wheel is a zip of them plus their .dist-info): a local package index pip installs from offline."""
    target.mkdir(parents=True, exist_ok=True)
    for dist in requirement_closure(requirements_txt):
        tag = next(line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
                   if line.startswith("Tag:"))
        name = dist.metadata["Name"].replace("-", "_").replace(".", "_")
        with zipfile.ZipFile(target / f"{name}-{dist.version}-{tag}.whl", "w") as archive:
            for file in dist.files or []:
                source = Path(str(dist.locate_file(file)))
                if file.parts[0] != ".." and file.suffix != ".pyc" and source.is_file():
                    archive.write(source, file.as_posix())
    return target


def tiny_wheel(folder: Path, name: str, import_name: str, version: str, source: str) -> Path:
    """A minimal pure-Python wheel: ``import_name/__init__.py`` holding ``source``, and its .dist-info."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{name.replace('-', '_')}-{version}"
    files = {f"{import_name}/__init__.py": source,
             f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{stem}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: plexsync-tests\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n"}
    files[f"{stem}.dist-info/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{stem}.dist-info/RECORD"])
    wheel = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def decoy_wheel(folder: Path, name: str, import_name: str, version: str) -> Path:
    """A newer release outside requirements.txt's bounds that breaks any run importing it: pip must never pick it."""
    return tiny_wheel(folder, name, import_name, version,
                      f"raise ImportError('decoy {name} {version}: outside the bounds')\n")
