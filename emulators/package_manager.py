"""Stash's plugin package manager, as far as installing one package from a source goes, for the tests that run
a release the way a user gets it. Imitated from Stash's Go source (pkg/pkg, v0.30.1; each rule is checked)."""

from __future__ import annotations

import hashlib
import io
import posixpath
import shutil
import urllib.parse
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LEGACY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
MANIFEST_FILE = "manifest"


class PackageError(ValueError):
    """What Stash's package manager would refuse, in its terms."""


def parse_date(value: Any) -> datetime:
    """``date`` is ``2006-01-02 15:04:05`` in UTC, or the legacy form with a zone, and anything else fails the index
    (pkg.go ``Time.UnmarshalYAML``)."""
    if isinstance(value, datetime):  # an unquoted date in YAML; Go reads the same text
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = str(value)
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        try:
            return datetime.strptime(text, LEGACY_TIME_FORMAT).astimezone(timezone.utc)
        except ValueError:
            raise PackageError(f"parsing time {text!r} as {TIME_FORMAT!r}") from None


def read_index(text: str) -> list[dict[str, Any]]:
    """The source's ``index.yml``: a YAML list of packages with ``id name version date requires path sha256
    metadata`` (pkg.go ``RemotePackage``)."""
    packages = yaml.safe_load(text)
    if not isinstance(packages, list):
        raise PackageError("the package list is not a YAML list")
    for package in packages:
        package["date"] = parse_date(package.get("date"))
    return packages


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:  # http(s) and file, as Stash's client reads them
        return answer.read()


def resolve_path(index_url: str, path: str) -> str:
    """``path`` is a URL, or a path joined to the index URL's folder (repository_http.go ``resolvePath``)."""
    if urllib.parse.urlsplit(path).scheme:
        return path
    parts = urllib.parse.urlsplit(index_url)
    joined = path if posixpath.isabs(path) else posixpath.join(posixpath.dirname(parts.path), path)
    return urllib.parse.urlunsplit(parts._replace(path=posixpath.normpath(joined)))


def install(index_url: str, package_id: str, plugins_dir: Path, local_path: str) -> Path:
    """Install ``package_id`` from the source at ``index_url`` into ``plugins_dir/local_path/<id>``.

    A ``file://`` index may name local files, a remote one may not; the zip's sha256 must equal ``sha256`` or
    nothing is installed (manager.go ``Install``); every file entry (directories skipped) is written at its cleaned
    name, and a ``manifest`` file lists the package and its files (manager.go ``installPackage``, store.go); an
    existing install of the id is removed first. Stash then runs the plugin with ``PYTHONPATH`` = the folder above
    the plugin's own (pkg/plugin/raw.go): emulators/plugin_runner.py does that."""
    packages = [p for p in read_index(_fetch(index_url).decode("utf-8")) if p.get("id") == package_id]
    if not packages:
        raise PackageError(f"package {package_id!r} not found in {index_url}")
    package = max(packages, key=lambda p: p["date"])  # the newest of one id wins (pkg.go)
    zip_url = resolve_path(index_url, str(package["path"]))
    if zip_url.startswith("file:") and not index_url.startswith("file:"):
        raise PackageError(f"{zip_url} is invalid for a remotely hosted package list")
    data = _fetch(zip_url)
    digest = hashlib.sha256(data).hexdigest()
    if digest != package.get("sha256"):
        raise PackageError(f"package data ({digest}) does not match expected SHA256 ({package.get('sha256')})")
    store = plugins_dir / local_path if local_path not in ("", ".") else plugins_dir
    target = store / package_id
    shutil.rmtree(target, ignore_errors=True)
    files = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if entry.is_dir():
                continue
            name = posixpath.normpath(entry.filename)
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(entry))
            mode = (entry.external_attr >> 16) & 0o777
            if mode:
                destination.chmod(mode)
            files.append(name)
    manifest = {"id": package_id, "name": package.get("name"), "metadata": package.get("metadata"),
                "version": package.get("version"), "date": package["date"].strftime(TIME_FORMAT),
                "requires": package.get("requires") or [], "source_repository": index_url, "files": files}
    (target / MANIFEST_FILE).write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return target
