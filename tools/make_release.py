"""Build the user-facing release zip: only the plugin's runtime files, one yml (Stash loads every *.yml).

    python tools/make_release.py            # → dist/PlexSync.zip (+ its sha256, for a plugin-source index)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNTIME_FILES = ("PlexSync.yml", "PlexSync.py", "requirements.txt", "README.md")
RUNTIME_PACKAGES = ("hooks", "sync_queue", "worker", "plex", "validation")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return listed.split()


def release_members(files: list[str]) -> list[str]:
    """Runtime files only: no tests, docs, emulators, CI or mkdocs.yml; no bytecode."""
    return sorted(name for name in files
                  if name in RUNTIME_FILES
                  or (name.split("/", 1)[0] in RUNTIME_PACKAGES and name.endswith(".py")))


def build(out_dir: Path) -> Path:
    members = release_members(tracked_files())
    ymls = [name for name in members if name.endswith(".yml")]
    if ymls != ["PlexSync.yml"]:
        raise SystemExit(f"a release must hold exactly one yml (Stash loads them all as plugins), found {ymls}")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "PlexSync.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in members:
            archive.write(REPO / name, name)
    return target


def main() -> int:
    target = build(REPO / "dist")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target} sha256={digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
