#!/usr/bin/env python3
"""PlexSync: keeps a Plex Media Server in sync with Stash (a Stash ``raw`` plugin).

Stash runs this file with one JSON object on stdin. It reads it, dispatches a hook or a task, and prints
exactly one JSON object ``{"output": ..., "error": ...}`` on stdout, whatever happens, exiting 0.
With arguments it is a command line (``python PlexSync.py --help``). Python 3.10 or newer.
"""

from __future__ import annotations

import json
import os
import re
import sys

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

MAX_STDIN_BYTES = 64 * 1024 * 1024


def _plugin_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def plugin_version(plugin_dir: str) -> str:
    """The version, kept in one place: PlexSync.yml's ``version:`` (the release script reads it here too)."""
    with open(os.path.join(plugin_dir, "PlexSync.yml"), encoding="utf-8") as manifest:
        found = re.search(r"^version:\s*['\"]?([^'\"\s#]+)", manifest.read(), flags=re.MULTILINE)
    return found.group(1) if found else "unknown"


def _read_payload(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_STDIN_BYTES:
        raise ValueError(f"stdin is {len(raw)} bytes; Stash sends far less. Refusing to parse it.")
    if not raw.strip():
        raise ValueError("stdin is empty: PlexSync expects Stash's plugin input JSON")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"stdin is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"stdin must be a JSON object, not {type(payload).__name__}")
    if not isinstance(payload.get("args"), dict):
        raise ValueError("stdin has no 'args' object (expected Stash's plugin input)")
    return payload


def _dispatch(payload: dict[str, Any]) -> Any:
    from sync_queue.location import resolve_data_dir

    entry = os.path.realpath(__file__)
    data_dir = resolve_data_dir(payload.get("server_connection"))
    if "hookContext" in payload["args"]:
        from hooks.intake import handle_hook  # the hook path: stdlib + sync_queue only; checks the owner itself

        return handle_hook(payload, data_dir, entry)
    from pathlib import Path  # here: the hook has no use for it

    return _run_task_or_page(payload, Path(data_dir), Path(entry))


def _run_task_or_page(payload: dict[str, Any], data_dir: Path, entry: Path) -> Any:
    """A task or a page's operation; a package Stash's Python lacks is installed first (never in a hook)."""
    from validation import stash_log
    from validation.dependencies import run_with_requirements

    stash_log.configure()  # tasks and pages log from the start; a hook writes Stash's wire without ``logging``
    return run_with_requirements(lambda: _task_or_page(payload, data_dir, entry), entry.parent, data_dir)


def _task_or_page(payload: dict[str, Any], data_dir: Path, entry: Path) -> Any:
    _check_owner(data_dir, payload.get("server_connection"))
    if payload["args"].get("mode") == "ui":  # runPluginOperation from PlexSync's pages in Stash
        from worker.tasks.page import run_ui_operation

        return run_ui_operation(payload, data_dir, entry)
    from worker.tasks.handlers import run_stash_task

    return run_stash_task(payload, data_dir, entry)


def _check_owner(data_dir: Any, server_connection: Any) -> None:
    """A data folder serves one Stash (sync_queue.intake.owner); files PlexSync writes are its user's only."""
    from sync_queue.database import Database
    from sync_queue.intake.owner import check_owner_unless_busy

    with Database(data_dir, timeout_s=2.0) as store:
        check_owner_unless_busy(store, server_connection)


def run_plugin(raw: bytes) -> dict[str, Any]:
    """Everything a Stash run does, as one result object; never raises."""
    return _run(raw)[0]


def _run(raw: bytes) -> tuple[dict[str, Any], bool]:
    """:func:`run_plugin`'s result, and whether the run was a hook's."""
    hook = False
    try:
        payload = _read_payload(raw)
        hook = "hookContext" in payload["args"]
        return {"output": _dispatch(payload), "error": None}, hook
    except ModuleNotFoundError as exc:
        from validation.dependencies import explain_missing

        message = explain_missing(exc, _plugin_dir())
        _log_error(message)
        return {"output": None, "error": message}, hook
    except Exception as exc:  # the contract: one JSON object on stdout in every outcome
        from validation.stash_wire import redact

        message = redact(str(exc) or type(exc).__name__)
        expected = isinstance(exc, ValueError) or hasattr(exc, "output")
        _log_error(message, traceback=not expected)
        return {"output": getattr(exc, "output", None), "error": message}, hook


def _log_error(message: str, traceback: bool = False) -> None:
    """Through the ``plexsync`` logger, set up now if this run has not yet (a hook only does when it fails:
    ``logging`` would cost every save); called inside the ``except`` whose traceback it logs."""
    import logging

    from validation import stash_log

    if not logging.getLogger(stash_log.LOGGER_NAME).handlers:
        stash_log.configure()
    stash_log.get_logger("entry").error(message, exc_info=traceback)


def _run_stash_mode() -> int:
    hook = False
    try:
        raw = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
        result, hook = _run(raw)
    except BaseException as exc:  # last resort: still one JSON object, still exit 0
        result = {"output": None, "error": f"PlexSync crashed: {type(exc).__name__}: {exc}"}
    sys.stdout.write(stdout_text(result))
    sys.stdout.flush()
    if hook:
        _end_without_teardown(0)
    return 0


def _end_without_teardown(code: int) -> None:
    """End a hook run now. Its event is committed and its store closed (``handle_hook``'s ``with``), its answer
    flushed: what remains is the interpreter freeing every module one by one, which the user's save would
    wait for. ``atexit`` handlers still run (logging's flush, coverage). Returns when that is not safe."""
    import atexit

    threading = sys.modules.get("threading")
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's: what a normal exit runs first
    if run_exit_handlers is None or (threading is not None and threading.active_count() > 1):
        return  # another interpreter, or a thread that a normal exit would wait for
    run_exit_handlers()
    sys.stderr.flush()
    os._exit(code)


def stdout_text(result: dict[str, Any]) -> str:
    """The one JSON object Stash reads. Strict JSON: Go's decoder rejects Python's NaN and Infinity, and Stash
    would then log the whole text as the task's output and lose the error."""
    try:
        return json.dumps(result, default=str, allow_nan=False)
    except ValueError as exc:
        return json.dumps({"output": None, "error": f"PlexSync produced an output JSON cannot hold ({exc})"})


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, _plugin_dir())  # Stash's cwd is not the plugin folder
    if os.name == "posix":
        os.umask(0o077)  # the queue, logs and spool hold scene paths: owner-only, for the detached worker too
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:
        print(f"PlexSync {plugin_version(_plugin_dir())}")
        return 0
    if not argv and _stdin_is_a_terminal():
        argv = ["--help"]  # a person typed it: Stash always pipes its JSON in
    if argv == ["worker"]:  # the detached worker a hook starts: it installs a missing package itself, so it
        from pathlib import Path  # must not need one first (the command line's parser does)
        from worker.process.daemon import main as worker_main

        return worker_main(Path(_plugin_dir()))
    if argv:
        from pathlib import Path  # not at the top: a hook imports no pathlib

        from sync_queue.location import command_line_data_dir
        from validation.dependencies import command_line_problem

        problem = command_line_problem(_plugin_dir(), argv, command_line_data_dir(Path(_plugin_dir())))
        if problem:
            print(f"PlexSync: {problem}", file=sys.stderr)
            return 1
        from worker.cli.main import main as cli_main

        return cli_main(argv, run_demo=_run_demo)
    return _run_stash_mode()


def _run_demo(serve: bool) -> int:
    """``python PlexSync.py demo``: a full sync against the bundled emulators (a checkout's, not a release's)."""
    from emulators.demo import main as demo_main

    return demo_main(serve=serve)


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(main())
