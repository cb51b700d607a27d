"""``python PlexSync.py <command>``: the tasks outside Stash, configured by flags or PLEXSYNC_* variables."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from validation import stash_log

TASK_COMMANDS = {
    "process-queue": ("process_queue", "Push everything pending to Plex now (checks Plex first)."),
    "sync-all": ("sync_all", "Queue every scene whose Stash state differs from what Plex was given, then sync."),
    "sync-recent": ("sync_recent", "Queue scenes updated since the last run (first run: 24 h), then sync."),
    "reconcile": ("reconcile", "Find drift both ways between Stash and Plex and fix it."),
    "status": ("status", "Show the queue, dead letters, circuit state and the worker."),
    "health": ("health", "Check Plex is reachable, the token valid and the libraries present."),
    "retry-dlq": ("retry_dlq", "Move dead letters back to pending."),
    "clear-queue": ("clear_queue", "Drop all pending work (destructive)."),
    "clear-dlq": ("clear_dlq", "Delete every dead letter (destructive)."),
    "purge-dlq": ("purge_dlq", "Delete dead letters older than --days (destructive)."),
    "rebuild-index": ("rebuild_index", "Forget Plex item links and list the Plex libraries again."),
    "import-plays": ("import_plays", "Import plays and resume points of linked Plex items into Stash, exactly once."),
}
ENV_PREFIX = "PLEXSYNC_"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="PlexSync.py",
        description="PlexSync keeps Plex in sync with Stash. Inside Stash it reads its input on stdin; "
        "these commands run the same tasks from a terminal. Every setting can also come from a "
        "PLEXSYNC_<SETTING> environment variable (e.g. PLEXSYNC_PLEX_URL, PLEXSYNC_PLEX_TOKEN).",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, (_, help_text) in TASK_COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        _add_common_options(command)
        if name == "purge-dlq":
            command.add_argument("--days", type=float, default=30.0, help="age in days (default 30)")
    sub.add_parser("demo", help="Run a full sync against the bundled Stash and Plex emulators.")
    sub.add_parser("worker", help=argparse.SUPPRESS)  # the detached worker hooks start
    return parser


def _add_common_options(command: argparse.ArgumentParser) -> None:
    env = os.environ
    command.add_argument("--data-dir", default=env.get("PLEXSYNC_DATA_DIR"),
                         help="where the queue lives (PLEXSYNC_DATA_DIR; default: the one Stash uses when "
                              "this copy is installed in Stash, else ./plexsync-data)")
    command.add_argument("--stash-url", default=env.get("PLEXSYNC_STASH_URL"),
                         help="Stash address, e.g. http://localhost:9999 (PLEXSYNC_STASH_URL)")
    command.add_argument("--stash-api-key", default=env.get("PLEXSYNC_STASH_API_KEY"),
                         help="Stash API key (PLEXSYNC_STASH_API_KEY)")
    command.add_argument("--plex-url", help="overrides the plex_url setting")
    command.add_argument("--plex-library", help="overrides the plex_library setting")
    command.add_argument("--path-map", help="overrides the path_map setting")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="any other setting, e.g. --set settle_seconds=0 (repeatable)")
    command.add_argument("--json", action="store_true", help="print the result as JSON only")


def overrides_from(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """Settings from PLEXSYNC_* variables, then flags (the token only from the environment: argv is visible)."""
    from validation.config import config_from_env

    overrides: dict[str, Any] = dict(config_from_env(environ))
    for flag, key in (("plex_url", "plex_url"), ("plex_library", "plex_library"), ("path_map", "path_map")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = value
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value
    return overrides


def terminal_progress(fraction: float) -> None:
    width = 30
    filled = int(width * fraction)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}%")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_task_command(args: argparse.Namespace, plugin_dir: Path) -> int:
    from worker.tasks import TaskContext, run_task

    on_terminal = sys.stderr.isatty()
    # A person at a terminal reads plain lines; anything else gets Stash's wire format.
    stash_log.configure(plain_file=sys.stderr) if on_terminal else stash_log.configure(stream=sys.stderr)
    mode = TASK_COMMANDS[args.command][0]
    from sync_queue.location import command_line_data_dir

    data_dir = Path(args.data_dir).resolve() if args.data_dir else command_line_data_dir(plugin_dir)
    task_args = {"days": args.days} if mode == "purge_dlq" else {}
    ctx = TaskContext(
        data_dir=data_dir,
        plugin_dir=plugin_dir,
        entry_script=plugin_dir / "PlexSync.py",
        stash_url=args.stash_url,
        stash_api_key=args.stash_api_key,
        overrides=overrides_from(args, dict(os.environ)),
        args=task_args,
        progress=terminal_progress if on_terminal else stash_log.progress,
    )
    stash_log.register_secret(args.stash_api_key)
    try:
        output, error = run_task(mode, ctx), None
    except Exception as exc:
        output, error = getattr(exc, "output", None), stash_log.redact(str(exc))
    print(json.dumps({"output": output, "error": error}, indent=None if args.json else 2, default=str))
    return 0 if error is None else 1


def main(argv: Sequence[str]) -> int:
    plugin_dir = Path(__file__).resolve().parent.parent
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "worker":
        from worker.daemon import main as worker_main

        return worker_main(plugin_dir)
    if args.command == "demo":
        from emulators.demo import main as demo_main

        return demo_main()
    return run_task_command(args, plugin_dir)
