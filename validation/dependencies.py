"""When Stash's Python lacks one of PlexSync's packages: install requirements.txt with that Python's own pip into
``<data folder>/python-packages/<interpreter>-<requirements hash>`` and put that folder on ``sys.path``.

Why so (docs/ARCHITECTURE.md, "Dependencies", says why not PythonDepManager): ``--target`` installs the whole
set beside Stash's Python, not into it, so there is no PEP 668 refusal (Stash's Docker image, Debian,
Homebrew), and the data folder is the volume that survives image and plugin updates. The folder's name holds
the interpreter (a new Python gets its own compiled packages) and a hash of requirements.txt (new bounds install
afresh); pip resolves requirements.txt as written, bounds included. pip writes into a fresh folder renamed into
place when complete, so a run killed halfway leaves nothing that looks installed; of two runs at once, the
first rename wins. Tasks and the background worker install, never a hook (hooks stay milliseconds); the
worker, which a hook starts, waits half an hour after a failed try, a task always tries (the user asked).
Standard library only: it runs when imports have failed.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Callable, TypeVar

from validation.install_help import (missing_dependency_message, missing_imports, pip_available,
                                     runtime_requirements)

T = TypeVar("T")
PACKAGES_FOLDER = "python-packages"
ATTEMPT_FILE = "last-attempt.json"
AUTOMATIC_RETRY_AFTER_S = 30 * 60.0
INSTALL_TIMEOUT_S = 15 * 60.0
OUR_PACKAGES = frozenset({"hooks", "sync_queue", "worker", "plex", "validation", "emulators", "PlexSync"})


class RequirementsMissing(ModuleNotFoundError):
    """A package is missing and was not installed; the message says what happened and the command to run."""


def packages_dir(plugin_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str]) -> Path:
    """``<data>/python-packages/cpython-312-linux-x86_64-3f2a9c1b``: this interpreter, these requirements."""
    try:
        digest = hashlib.sha256(Path(plugin_dir, "requirements.txt").read_bytes()).hexdigest()[:8]
    except OSError:
        digest = "none"
    return Path(data_dir) / PACKAGES_FOLDER / f"{_interpreter_tag()}-{digest}"


def _interpreter_tag() -> str:
    return f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}".replace(".", "_").replace(" ", "_")


def use_installed(plugin_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str]) -> bool:
    """Put the packages PlexSync installed earlier on ``sys.path`` (right after the plugin folder, so its set
    wins over same-named packages in Stash's Python); False when there are none."""
    folder = packages_dir(plugin_dir, data_dir)
    if not folder.is_dir():
        return False
    entry = str(folder)
    if entry not in sys.path:
        plugin = os.path.abspath(plugin_dir)
        position = next((i + 1 for i, path in enumerate(sys.path) if os.path.abspath(path or ".") == plugin), 0)
        sys.path.insert(position, entry)
        importlib.invalidate_caches()
    return True


def ensure_requirements(plugin_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str], *,
                        automatic: bool = False) -> None:
    """Every requirement importable, installing requirements.txt first when one is not (a few milliseconds
    when all are). ``automatic``: the background worker (no user asked), which does not retry soon after a
    failure nor while another run installs. RequirementsMissing says why not and what to run."""
    use_installed(plugin_dir, data_dir)
    missing = missing_imports(runtime_requirements(str(plugin_dir)))
    if missing:
        install_requirements(plugin_dir, data_dir, missing[0], automatic=automatic)


def run_with_requirements(work: Callable[[], T], plugin_dir: str | os.PathLike[str],
                          data_dir: str | os.PathLike[str], *, automatic: bool = False) -> T:
    """``work()`` with the requirements in place (:func:`ensure_requirements`); when it still fails for a
    package that is not there (one a requirement needs), install and run it once more."""
    ensure_requirements(plugin_dir, data_dir, automatic=automatic)
    try:
        return work()
    except ModuleNotFoundError as exc:
        if isinstance(exc, RequirementsMissing) or not _installable(exc.name):
            raise
        install_requirements(plugin_dir, data_dir, exc.name, automatic=automatic)
    return work()


def explain_missing(exc: ModuleNotFoundError, plugin_dir: str | os.PathLike[str]) -> str:
    """The words for a run that ended on a missing package: an install's own account, or the command."""
    if isinstance(exc, RequirementsMissing):
        return str(exc)
    return missing_dependency_message(exc.name, str(plugin_dir))


def command_line_problem(plugin_dir: str | os.PathLike[str], argv: list[str], default_data_dir: Path) -> str | None:
    """For ``python PlexSync.py <command>``: the packages PlexSync installed go on sys.path; a message with the
    command when one is still missing (a person at a terminal decides whether to install). ``--data-dir`` in
    ``argv`` wins over ``default_data_dir``."""
    named = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--data-dir"), None)
    named = named or next((arg.partition("=")[2] for arg in argv if arg.startswith("--data-dir=")), None)
    data_dir = Path(named).expanduser().resolve() if named else default_data_dir
    use_installed(plugin_dir, data_dir)
    missing = missing_imports(runtime_requirements(str(plugin_dir)))
    if not missing:
        return None
    return missing_dependency_message(missing[0], str(plugin_dir), target=str(packages_dir(plugin_dir, data_dir)))


def _installable(name: str | None) -> bool:
    """Not ours and not the standard library's: a package pip can bring (a requirement or one it needs)."""
    top = (name or "").split(".")[0]
    return bool(top) and top not in OUR_PACKAGES and top not in getattr(sys, "stdlib_module_names", ())


def install_requirements(plugin_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str],
                         package: str | None, *, automatic: bool = False) -> Path:
    """Install requirements.txt into :func:`packages_dir` with this Python's pip; the folder, now on sys.path.
    RequirementsMissing when that cannot be done or failed (the message names the reason and the command)."""
    from validation.stash_log import get_logger

    log = get_logger("install")
    target = packages_dir(plugin_dir, data_dir)
    requirements = Path(plugin_dir, "requirements.txt")

    def missing(attempt: str | None, name: str | None = package) -> RequirementsMissing:
        return RequirementsMissing(missing_dependency_message(name, str(plugin_dir), target=str(target),
                                                              attempt=attempt), name=name)

    if not requirements.is_file():
        raise missing("there is no requirements.txt in the plugin folder to install from")
    if not pip_available():
        raise missing("no_pip")
    last = read_attempt(data_dir) or {}
    age_s = time.time() - float(last.get("at", 0))
    if automatic and last.get("installing") and age_s < INSTALL_TIMEOUT_S:
        raise missing(f"earlier: another PlexSync run started installing them {age_s:.0f} s ago")
    if automatic and last.get("ok") is False and age_s < AUTOMATIC_RETRY_AFTER_S:
        raise missing(f"earlier: {last.get('reason', '?')}")
    _write_attempt(data_dir, None, installing=True)
    log.info("Stash's Python lacks %r: installing PlexSync's requirements (requirements.txt) into %s with its pip; "
             "this happens once and takes a minute or two", package, target)
    started_mono_s = time.monotonic()
    reason = _pip_install(requirements, target)
    _write_attempt(data_dir, reason)
    if reason:
        raise missing(reason)
    _remove_stale(target)
    use_installed(plugin_dir, data_dir)
    still = missing_imports(runtime_requirements(str(plugin_dir)))
    if still:
        raise missing(f"pip installed requirements.txt, yet {still[0]!r} still does not import", still[0])
    log.info("PlexSync's requirements are installed in %s (%.0f s)", target, time.monotonic() - started_mono_s)
    return target


def _pip_install(requirements: Path, target: Path) -> str | None:
    """None when requirements.txt is installed in ``target``; else why not (pip's last words)."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "install", "-r", str(requirements), "--target", str(partial),
               "--disable-pip-version-check", "--no-input", "--no-warn-script-location", "--quiet"]
    try:  # its output never reaches stdout (Stash's JSON channel): captured, and only the end is kept
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=INSTALL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        return f"pip did not finish ({type(exc).__name__}: {exc})"
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        lines = [line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
        return "pip failed: " + (" / ".join(lines[-3:])[-600:] or f"exit status {done.returncode}")
    try:
        os.replace(partial, target)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not target.is_dir():  # not another run's finished install either
            return f"could not move the packages into {target}"
    return None


def _remove_stale(target: Path) -> None:
    """Sets for requirements this release no longer has (same interpreter), and halves of killed installs."""
    prefix = target.name.rsplit("-", 1)[0] + "-"
    for folder in target.parent.iterdir():
        stale_set = folder.name.startswith(prefix) and folder.name != target.name and ".partial-" not in folder.name
        stale_half = ".partial-" in folder.name and time.time() - folder.stat().st_mtime > INSTALL_TIMEOUT_S
        if folder.is_dir() and (stale_set or stale_half):
            shutil.rmtree(folder, ignore_errors=True)


def read_attempt(data_dir: str | os.PathLike[str]) -> dict | None:
    try:
        found = json.loads(Path(data_dir, PACKAGES_FOLDER, ATTEMPT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write_attempt(data_dir: str | os.PathLike[str], reason: str | None, *, installing: bool = False) -> None:
    """The last install: when, and how it ended (``installing``: under way, so the worker does not start a
    second one beside it)."""
    folder = Path(data_dir, PACKAGES_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f"{ATTEMPT_FILE}.{os.getpid()}"
    record = {"at": time.time(), "ok": None if installing else reason is None, "reason": reason,
              "installing": installing}
    scratch.write_text(json.dumps(record), encoding="utf-8")
    os.replace(scratch, folder / ATTEMPT_FILE)
