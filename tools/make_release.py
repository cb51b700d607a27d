"""Build the plugin source Stash installs from: ``dist/PlexSync.zip`` and ``dist/index.yml``.

    python tools/make_release.py                 # from the commit you are on (refuses uncommitted runtime edits)
    python tools/make_release.py --allow-dirty   # a local try-out build of the working tree

The zip holds only the runtime files, at its root (Stash's package manager unpacks it into
``<plugins>/<source folder>/PlexSync/``), and exactly one ``*.yml``: Stash loads every yml under its plugins
folder as a plugin. The zip is byte-for-byte reproducible from a commit (fixed order, times and modes), so
its sha256 names the commit's code. Publishing the two files is described in docs/install.md.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PLUGIN_ID = "PlexSync"  # Stash takes the id from the yml file name
ZIP_NAME = f"{PLUGIN_ID}.zip"
SOURCE_BRANCH = "plugin-source"
SOURCE_URL = f"https://raw.githubusercontent.com/plexsync/PlexSync/{SOURCE_BRANCH}/index.yml"
RUNTIME_FILES = ("PlexSync.yml", "PlexSync.py", "requirements.txt")
RUNTIME_PACKAGES = ("hooks", "sync_queue", "worker", "plex", "validation")
UI_FOLDER = "ui"
INDEX_HEADER = """\
# A Stash plugin source: add this file's URL in Settings → Plugins → Available Plugins → Add Source.
# Format (written from our knowledge of Stash's package manager, pkg/pkg, and of the index that
# stashapp/CommunityScripts' build_site.sh writes; not copied): a YAML list of packages, each with
#   id        the plugin id (its yml file name) and the folder the zip is unpacked into
#   name      shown in the list;  metadata: free-form map (Stash shows `description`)
#   version   shown as the version;  date: "YYYY-MM-DD HH:MM:SS +ZZZZ" of the build's commit (newer = update)
#   requires  ids of other packages from the same source that must be installed first
#   path      the zip, relative to this file's URL;  sha256: hex digest of the zip, checked before unpacking
"""


def version() -> str:
    """The one place the version lives: PlexSync.yml, read the way ``PlexSync.py --version`` reads it."""
    from PlexSync import plugin_version

    return plugin_version(str(REPO))


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def release_members(files: list[str]) -> list[str]:
    """Runtime files only: no tests, docs, emulators, tools, CI or mkdocs.yml; no bytecode."""
    def ships(name: str) -> bool:
        top = name.split("/", 1)[0]
        if name in RUNTIME_FILES or (top == UI_FOLDER and "/" in name):
            return True
        return top in RUNTIME_PACKAGES and name.endswith(".py")

    return sorted(name for name in files if ships(name))


def commit_time() -> tuple[int, str]:
    """The tested commit's time: (unix seconds, the index's date text)."""
    stamp, text = git("log", "-1", "--date=format:%Y-%m-%d %H:%M:%S %z", "--format=%ct%n%ad").split("\n")[:2]
    return int(stamp), text


def build_zip(out_dir: Path, members: list[str], stamp: int) -> Path:
    ymls = [name for name in members if name.endswith(".yml")]
    if ymls != [f"{PLUGIN_ID}.yml"]:
        raise SystemExit(f"a release must hold exactly one yml (Stash loads them all as plugins), found {ymls}")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ZIP_NAME
    date_time = time.gmtime(max(stamp, 315532800))[:6]  # zip times start in 1980
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (REPO / name).read_bytes())
    return target


def index_entry(zip_path: Path, date: str, short_commit: str) -> dict:
    manifest = yaml.safe_load((REPO / f"{PLUGIN_ID}.yml").read_text(encoding="utf-8"))
    return {
        "id": PLUGIN_ID,
        "name": manifest["name"],
        "metadata": {"description": " ".join(str(manifest.get("description", "")).split())},
        "version": f"{version()}-{short_commit}",
        "date": date,
        # PythonDepManager is optional (used when installed) and lives in another source, so nothing is required.
        "requires": [],
        "path": zip_path.name,
        "sha256": hashlib.sha256(zip_path.read_bytes()).hexdigest(),
    }


def build(out_dir: Path) -> Path:
    """Write the zip and index.yml into ``out_dir``; returns the zip's path."""
    stamp, date = commit_time()
    target = build_zip(out_dir, release_members(git("ls-files").split()), stamp)
    entry = index_entry(target, date, git("rev-parse", "--short=7", "HEAD").strip())
    (out_dir / "index.yml").write_text(INDEX_HEADER + yaml.safe_dump([entry], sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    return target


def uncommitted_runtime_changes() -> list[str]:
    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    return [name for name in changed if release_members([name])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/PlexSync.zip and dist/index.yml (a Stash plugin source).")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default dist/)")
    parser.add_argument("--allow-dirty", action="store_true", help="build even with uncommitted runtime changes")
    args = parser.parse_args(argv)
    dirty = uncommitted_runtime_changes()
    if dirty and not args.allow_dirty:
        print(f"uncommitted changes would ship but not match the commit: {', '.join(dirty)}", file=sys.stderr)
        return 1
    target = build(args.out)
    print(f"{target}\n{args.out / 'index.yml'}  (version {version()}; publish both, see docs/install.md)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # run as a script: the repository root holds PlexSync.py
    sys.exit(main())
