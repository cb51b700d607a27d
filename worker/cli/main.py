"""``python PlexSync.py <command>``: the tasks outside Stash, configured by flags or PLEXSYNC_* variables."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from validation import stash_log
from worker.cli.view import EXIT_FAILED, EXIT_USAGE, TerminalProgress, exit_status, local_time, summary
from worker.tasks.reasons import explain_entry
from worker.tasks.summary import plural

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
    "import-plays": ("import_plays", "Import plays and resume points (and ratings, with ratings_from_plex) of linked "
                                     "Plex items into Stash, exactly once."),
    "gaps": ("gaps", "List Plex items no Stash scene has and Stash scenes with no Plex item, with reasons."),
}
ENV_PREFIX = "PLEXSYNC_"
SETTING_DEST = "setting_"  # argparse dest prefix of the per-setting flags
# PLEXSYNC_* variables that are not settings: the command line's own, and the test suite's schema folder.
CLI_VARIABLES = frozenset({"PLEXSYNC_DATA_DIR", "PLEXSYNC_STASH_URL", "PLEXSYNC_STASH_API_KEY",
                           "PLEXSYNC_STASH_SCHEMA_DIR"})
DRY_RUN_COMMANDS = ("sync-all", "reconcile", "process-queue", "import-plays")
CONFIRM_COMMANDS = ("clear-queue", "clear-dlq", "purge-dlq", "reconcile")
READ_ONLY_MODES = ("status", "clear_queue", "clear_dlq", "purge_dlq", "retry_dlq")  # need a queue
EXIT_STATUS_HELP = ("exit status: 0 done; 1 the task failed; 2 a usage error or a refused confirmation; "
                    "3 it ran, but found problems: scenes failed or sit in the dead-letter queue, or Health Check "
                    "has warnings (a path map that maps nothing, say). Every setting is a flag too: "
                    "--help-settings lists them")
SETTINGS_HELP_FLAG = "--help-settings"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="PlexSync.py",
        description="PlexSync keeps Plex in sync with Stash. Inside Stash it reads its input on stdin; "
        "these commands run the same tasks from a terminal. Every setting can also come from a "
        "PLEXSYNC_<SETTING> environment variable (e.g. PLEXSYNC_PLEX_URL, PLEXSYNC_PLEX_TOKEN).",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, (_, help_text) in TASK_COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text, epilog=EXIT_STATUS_HELP)
        _add_common_options(command)
        _add_output_options(command, name)
        if name == "purge-dlq":
            command.add_argument("--days", type=float, default=30.0, help="age in days (default 30)")
    demo = sub.add_parser("demo", help="Run a full sync against the bundled Stash and Plex emulators.",
                          description="Run a full sync against the bundled Stash and Plex emulators and show what "
                          "changed in Plex.")
    demo.add_argument("--serve", action="store_true",
                      help="then keep the emulated Stash (with the PlexSync page) and Plex running and print their "
                           "addresses and the command line to try, until Ctrl+C")
    _add_settings_help(parser)
    return parser


class _SettingsHelp(argparse.Action):
    """``--help-settings``: every setting as a flag and a PLEXSYNC_* variable, with its label on Stash's page."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(settings_help())
        parser.exit(0)


def _add_settings_help(command: argparse.ArgumentParser) -> None:
    command.add_argument(SETTINGS_HELP_FLAG, action=_SettingsHelp,
                         help="list every setting: its flag, its PLEXSYNC_* variable and its default")


def settings_help() -> str:
    """Built from whatever settings validation.config declares, so it never falls behind them."""
    listing = argparse.ArgumentParser(prog="PlexSync.py <command>", usage=argparse.SUPPRESS, add_help=False,
                                      description="Settings: each is a flag, or a PLEXSYNC_<NAME> environment "
                                      "variable (e.g. PLEXSYNC_PLEX_URL). A flag wins over the variable, and both "
                                      "over the value saved in Stash; an empty variable changes nothing. "
                                      "--set name=value sets any of them by its name.")
    _add_setting_flags(listing, shown=True)
    return listing.format_help().rstrip()


def _add_common_options(command: argparse.ArgumentParser) -> None:
    env = os.environ
    command.add_argument("--data-dir", default=env.get("PLEXSYNC_DATA_DIR"),
                         help="where the queue lives (PLEXSYNC_DATA_DIR; default: the one Stash uses when "
                              "this copy is installed in Stash, else ./plexsync-data)")
    command.add_argument("--stash-url", default=env.get("PLEXSYNC_STASH_URL"),
                         help="Stash address, e.g. http://localhost:9999 (PLEXSYNC_STASH_URL)")
    command.add_argument("--stash-api-key", default=env.get("PLEXSYNC_STASH_API_KEY"),
                         help="Stash API key (PLEXSYNC_STASH_API_KEY)")
    _add_setting_flags(command)
    _add_settings_help(command)
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="any setting by its name, e.g. --set settle_seconds=0 (repeatable)")
    command.add_argument("--json", action="store_true", help="print the result as JSON only")


def _add_setting_flags(command: argparse.ArgumentParser, shown: bool = False) -> None:
    """One flag per setting (``--max-tags 50``; switches as ``--skip-poster`` / ``--no-skip-poster``), its help the
    name Stash's settings page shows. Unset flags leave Stash's value (or the PLEXSYNC_* variable's) alone. Each
    command's ``--help`` leaves them out (``shown``: only ``--help-settings`` lists them)."""
    from validation.config import PlexSyncConfig

    group = command.add_argument_group("settings (override Stash's; each also PLEXSYNC_<SETTING>)")
    for key, field in PlexSyncConfig.model_fields.items():
        flag, dest = "--" + key.replace("_", "-"), SETTING_DEST + key
        variable = f" [{ENV_PREFIX}{key.upper()}]"
        if field.annotation is bool:
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None,
                               help=f"{field.description}{variable}" if shown else argparse.SUPPRESS)
            continue
        default = "" if field.is_required() else f" (default: {field.default or 'empty'})"
        secret = " (others can read it in the process list: prefer PLEXSYNC_PLEX_TOKEN)" if key == "plex_token" else ""
        group.add_argument(flag, dest=dest, metavar=key.split("_")[-1].upper(),
                           help=f"{field.description}{default}{secret}{variable}" if shown else argparse.SUPPRESS)


def setting_warnings(args: argparse.Namespace, environ: dict[str, str]) -> list[str]:
    """Unknown PLEXSYNC_* variables (as an unknown --set key is warned about), and a token given as a flag."""
    from validation.config import unknown_env_warnings

    warnings = unknown_env_warnings(environ, CLI_VARIABLES)
    if getattr(args, SETTING_DEST + "plex_token", None) is not None:
        warnings.append("--plex-token is visible to every user of this machine in the process list (ps, Task "
                        "Manager) while PlexSync runs; set PLEXSYNC_PLEX_TOKEN in the environment instead")
    return warnings


def overrides_from(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """Settings from PLEXSYNC_* variables, then flags, then ``--set``."""
    from validation.config import config_from_env

    # An empty variable (``PLEXSYNC_PLEX_TOKEN=``, often left by a shell or a compose file) is not a value: it
    # must not replace what is saved in Stash.
    overrides: dict[str, Any] = {key: value for key, value in config_from_env(environ).items()
                                 if str(value).strip()}
    for name, value in vars(args).items():
        if name.startswith(SETTING_DEST) and value is not None:
            overrides[name[len(SETTING_DEST):]] = value
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value
    return overrides


def _add_output_options(command: argparse.ArgumentParser, name: str) -> None:
    """How the result is shown, and the safety questions (the settings flags are ``_add_common_options``)."""
    loudness = command.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="count", default=0,
                          help="log each scene and step (-vv: debug detail)")
    loudness.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary; errors only")
    if name in DRY_RUN_COMMANDS:
        command.add_argument("--dry-run", action="store_true",
                             help="show per scene the Plex item and every field that would change; write nothing")
    if name in CONFIRM_COMMANDS:
        command.add_argument("-y", "--yes", action="store_true", help="do it without asking first")
    if name == "gaps":
        command.add_argument("--csv", action="store_true", help="print every gap as CSV rows only (a spreadsheet's)")


class CommandLineError(Exception):
    """A usage problem found before the task runs: said plainly, exit status 2."""


def data_dir_for(args: argparse.Namespace, plugin_dir: Path, mode: str) -> Path:
    """The queue's folder. A named folder that does not exist is a typo until shown otherwise: never create
    an empty one. Commands that only read or delete need a queue that is already there."""
    from sync_queue.location import command_line_data_dir
    from sync_queue.schema import DB_FILE

    if args.data_dir:
        data_dir = Path(args.data_dir).expanduser().resolve()
        if not data_dir.is_dir():
            raise CommandLineError(f"Data directory {data_dir} does not exist (a typo?). To start a new queue "
                                   "there, create the folder first.")
    else:
        data_dir = command_line_data_dir(plugin_dir)
    if mode in READ_ONLY_MODES and not (data_dir / DB_FILE).exists():
        raise CommandLineError(f"No PlexSync queue in {data_dir}: nothing has run with this data directory. "
                               "Pass --data-dir (or PLEXSYNC_DATA_DIR) to the folder Stash uses, e.g. "
                               "<Stash config>/plugin_data/PlexSync.")
    return data_dir


def what_it_would_do(mode: str, data_dir: Path, days: float) -> tuple[int, list[str]]:
    """(how many things a destructive command would delete, lines naming them)."""
    from sync_queue.store import Store

    with Store(data_dir) as store:
        if mode == "clear_queue":
            scene_ids = sorted(store.pending_scene_ids())
            events = store.intake_size()
            shown = ", ".join(map(str, scene_ids[:20])) + (" …" if len(scene_ids) > 20 else "")
            lines = [f"Would drop {plural(len(scene_ids), 'pending scene')}" + (f" (ids {shown})" if scene_ids else "")
                     + f" and {plural(events, 'hook event')} not yet absorbed. They stay unsynced until edited again "
                     "or Sync All runs."]
            return len(scene_ids) + events, lines
        letters = store.dead_letters()
    if mode == "purge_dlq":
        cutoff_s = time.time() - days * 86400
        letters = [letter for letter in letters if letter["last_failed_at"] < cutoff_s]
    lines = [f"Would delete {plural(len(letters), 'dead letter')}" + (f" older than {days:g} days"
                                                                   if mode == "purge_dlq" else "") + ":"]
    lines += [f"  scene {letter['scene_id']}: {explain_entry(letter).words[:160]} "
              f"(last failed {local_time(letter['last_failed_at'])})" for letter in letters[:20]]
    if len(letters) > 20:
        lines.append(f"  … and {len(letters) - 20} more")
    return len(letters), lines


RECONCILE_WARNING = ("Reconcile writes Stash's values over fields someone edited in Plex (unless "
                     "preserve_plex_edits is on). See what it would change first with: reconcile --dry-run")


def confirmed(args: argparse.Namespace, mode: str, data_dir: Path) -> bool:
    """Destructive commands say what they would do and ask; ``--yes`` skips the question. Without a
    terminal to ask on, they refuse rather than guess."""
    if args.command not in CONFIRM_COMMANDS or getattr(args, "dry_run", False) or args.yes:
        return True
    if mode == "reconcile":
        lines = [RECONCILE_WARNING]
    else:
        count, lines = what_it_would_do(mode, data_dir, getattr(args, "days", 30.0))
        if count == 0:
            return True  # nothing to lose: nothing to ask
    print("\n".join(lines), file=sys.stderr)
    if not sys.stdin.isatty():
        print("Not a terminal, so not asking: pass --yes to go ahead.", file=sys.stderr)
        return False
    try:
        answer = input("Go ahead? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def log_level(args: argparse.Namespace) -> int:
    """Warnings by default (the progress bar and the summary say the rest); -v each scene, -vv debug."""
    if args.quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)


def run_task_command(args: argparse.Namespace, plugin_dir: Path) -> int:
    from worker.tasks.handlers import TaskContext, run_task

    mode = TASK_COMMANDS[args.command][0]
    task_args: dict[str, Any] = {"days": args.days} if mode == "purge_dlq" else {}
    if getattr(args, "dry_run", False):
        mode, task_args = ("import_plays", {"dry_run": True}) if mode == "import_plays" else ("preview", {"scope": mode})
    stash_log.use_command_line(sys.stderr, log_level(args))
    stash_log.configure()
    try:
        data_dir = data_dir_for(args, plugin_dir, mode)
        if not confirmed(args, mode, data_dir):
            _report("Nothing was changed.", args.json)
            return EXIT_USAGE
    except CommandLineError as exc:
        _report(str(exc), args.json)
        return EXIT_USAGE
    machine = args.json or getattr(args, "csv", False)
    bar = TerminalProgress(sys.stderr) if sys.stderr.isatty() and not args.quiet and not machine else None
    ctx = TaskContext(
        data_dir=data_dir,
        plugin_dir=plugin_dir,
        entry_script=plugin_dir / "PlexSync.py",
        stash_url=args.stash_url,
        stash_api_key=args.stash_api_key,
        overrides=overrides_from(args, dict(os.environ)),
        args=task_args,
        progress=bar,
    )
    stash_log.register_secret(args.stash_api_key)
    stash_log.register_secret(getattr(args, SETTING_DEST + "plex_token", None))
    for warning in setting_warnings(args, dict(os.environ)):
        stash_log.get_logger("plexsync.cli").warning(warning)
    try:
        output, error = run_task(mode, ctx), None
    except ModuleNotFoundError:
        raise  # ``main`` says which package and how to install it
    except Exception as exc:
        output, error = getattr(exc, "output", None), stash_log.redact(str(exc))
    if bar is not None:
        bar.finish()
    if args.json:
        print(json.dumps({"output": output, "error": error}, default=str))
    elif mode == "gaps" and error is None:
        _print_gaps(args, output)
    elif task_args.get("dry_run") and error is None and not args.quiet:  # import-plays --dry-run
        from worker.viewing.plays import import_preview_lines

        print("\n".join(import_preview_lines(output, named=None)))
    elif not args.quiet or error is not None:
        print(summary(mode, output, error, verbose=args.verbose > 0))
    return exit_status(output, error)


def _print_gaps(args: argparse.Namespace, output: Any) -> None:
    """Every gap: CSV rows with ``--csv``, else one line each (``-q``: the counts only)."""
    from worker.tasks.gap_words import gap_csv, gap_lines

    if args.csv:
        sys.stdout.write(gap_csv(output))
    else:
        print("\n".join(gap_lines(output, named=0 if args.quiet else None)))


def main(argv: Sequence[str], run_demo: Callable[[bool], int]) -> int:
    """One command; ``run_demo(serve)`` runs ``demo`` (the entry file hands it in: the emulators are not the
    worker's to import)."""
    plugin_dir = Path(__file__).resolve().parents[2]  # worker/cli/main.py → the plugin folder
    argv = list(argv)
    try:
        return _run_command(argv, plugin_dir, run_demo)
    except ModuleNotFoundError as exc:  # a runtime package is missing: the exact command a Stash run gets too
        _report(missing_package_message(exc.name, plugin_dir), as_json="--json" in argv)
        return EXIT_FAILED
    except BrokenPipeError:  # ``status | head`` stopped reading: no traceback for that
        _silence_stdout()
        return EXIT_FAILED


def _run_command(argv: list[str], plugin_dir: Path, run_demo: Callable[[bool], int]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        sys.stdout.flush()
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "demo":
        return run_demo(args.serve)
    status = run_task_command(args, plugin_dir)
    sys.stdout.flush()  # here, so a closed pipe is met inside ``main``'s handler, not at interpreter exit
    return status


DEMO_ONLY_PACKAGES = {"graphql": "graphql-core", "yaml": "pyyaml"}  # requirements-demo.txt, for the emulators


def missing_package_message(name: str | None, plugin_dir: Path) -> str:
    if name in DEMO_ONLY_PACKAGES:
        from validation.install_help import quote

        return (f"The demo needs the Python package {DEMO_ONLY_PACKAGES[name]!r} (the emulators' only; PlexSync "
                f"itself does not). Install it with: {quote(sys.executable)} -m pip install -r "
                f"{quote(str(plugin_dir / 'requirements-demo.txt'))}")
    from validation.install_help import missing_dependency_message

    return missing_dependency_message(name, str(plugin_dir))


def _report(message: str, as_json: bool) -> None:
    """An error before or instead of a task's result: as the JSON document --json promises, or as text."""
    if as_json:
        print(json.dumps({"output": None, "error": message}))
    else:
        print(f"PlexSync: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
