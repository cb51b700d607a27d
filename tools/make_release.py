"""Build what a Stash plugin source serves, and the folder the CommunityScripts index builds from:

    dist/PlexSync.zip            the plugin: the runtime files only, at the zip's root
    dist/index.yml               a plugin-source index naming that zip (Stash's package manager reads it)
    dist/community/PlexSync/     the same files unpacked: CommunityScripts' plugins/PlexSync folder as it must be

    python tools/make_release.py                 # from the commit you are on (refuses uncommitted runtime edits)
    python tools/make_release.py --allow-dirty   # a local try-out build of the working tree

Stash's package manager (pkg/pkg) fetches the index, then the zip at ``path`` (relative to the index's URL),
checks its ``sha256`` and unpacks every file into ``<plugins>/<source's local path>/<id>/``. The zip holds exactly
one ``*.yml``: Stash loads every yml under its plugins folder as a plugin. It is byte-for-byte reproducible from
a commit (fixed order, times and modes), so its sha256 names the commit's code. Publishing: CONTRIBUTING.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PLUGIN_ID = "PlexSync"  # Stash takes the id from the yml file name
ZIP_NAME = f"{PLUGIN_ID}.zip"
COMMUNITY_FOLDER = Path("community") / PLUGIN_ID
RUNTIME_FILES = ("PlexSync.yml", "PlexSync.py", "requirements.txt")
RUNTIME_PACKAGES = ("hooks", "sync_queue", "worker", "plex", "validation")
UI_FOLDER = "ui"
INDEX_HEADER = """\
# A Stash plugin source: add this file's URL in Settings → Plugins → Available Plugins → Add Source.
# Format (written from our knowledge of Stash's package manager, pkg/pkg, and of the index that
# stashapp/CommunityScripts' build_site.sh writes; not copied): a YAML list of packages, each with
#   id        the plugin id (its yml file name) and the folder the zip is unpacked into
#   name      shown in the list;  metadata: free-form map (Stash shows `description`)
#   version   shown as the version;  date: "YYYY-MM-DD HH:MM:SS" in UTC, of the build's commit (newer = update)
#   requires  ids of other packages from the same source that must be installed first (none: PlexSync
#             installs its Python packages itself and uses no dependency plugin)
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
    """The tested commit's time: (unix seconds, the index's date text in UTC, pkg.TimeFormat since Stash 0.24)."""
    stamp = int(git("log", "-1", "--format=%ct").strip())
    return stamp, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp))


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
        "requires": [],  # no dependency plugin: missing Python packages are installed by PlexSync itself
        "path": zip_path.name,
        "sha256": hashlib.sha256(zip_path.read_bytes()).hexdigest(),
    }


def build(out_dir: Path) -> Path:
    """Write the zip, index.yml and the CommunityScripts folder into ``out_dir``; returns the zip's path."""
    stamp, date = commit_time()
    members = release_members(git("ls-files").split())
    target = build_zip(out_dir, members, stamp)
    entry = index_entry(target, date, git("rev-parse", "--short=7", "HEAD").strip())
    (out_dir / "index.yml").write_text(INDEX_HEADER + yaml.safe_dump([entry], sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    community_folder(out_dir / COMMUNITY_FOLDER, members)
    return target


def community_folder(folder: Path, members: list[str]) -> Path:
    """CommunityScripts builds its index from ``plugins/<folder>/<id>.yml`` (its build_site.sh zips the whole
    folder and reads the yml's one-line ``name:``, ``description:``, ``version:`` and ``# requires:``), so the
    folder is the zip's content, copied as is into a CommunityScripts checkout's ``plugins/``."""
    shutil.rmtree(folder, ignore_errors=True)
    for name in members:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, folder / name)
    return folder


def uncommitted_runtime_changes() -> list[str]:
    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    return [name for name in changed if release_members([name])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/PlexSync.zip and dist/index.yml (a Stash plugin source) "
                                                 "and dist/community/PlexSync (the CommunityScripts folder).")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default dist/)")
    parser.add_argument("--allow-dirty", action="store_true", help="build even with uncommitted runtime changes")
    args = parser.parse_args(argv)
    dirty = uncommitted_runtime_changes()
    if dirty and not args.allow_dirty:
        print(f"uncommitted changes would ship but not match the commit: {', '.join(dirty)}", file=sys.stderr)
        return 1
    target = build(args.out)
    print(f"{target}\n{args.out / 'index.yml'}\n{args.out / COMMUNITY_FOLDER}\n"
          f"(version {version()}; publishing them: CONTRIBUTING.md)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # run as a script: the repository root holds PlexSync.py
    sys.exit(main())
