"""What the command line shows a person: a progress bar on one terminal line, task results in words with
local date-times, and the exit status a script can test."""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import datetime
from typing import IO, Any, Callable, Mapping

from worker.tasks.context import eta_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROBLEMS = 0, 1, 2, 3
BAR_WIDTH = 24
TIME_KEYS = ("retry_at", "not_before")  # besides every "*_at" key
# Results said in the words Stash's log uses (worker.tasks.summary); the rest are shown key by key.
WORDED_MODES = ("status", "clear_queue", "clear_dlq", "purge_dlq", "retry_dlq", "rebuild_index")


class TerminalProgress:
    """``[#####.....] 12/40 scenes  3.1/s  ETA 0m09s`` redrawn in place on one line. Tasks report a fraction;
    sync tasks also report the counts (``count``), which give the rate and the ETA."""

    def __init__(self, stream: IO[str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        enable_terminal_sequences()
        self.clock = clock
        self.started_mono_s = clock()
        self.done: int | None = None
        self.total: int | None = None
        self.open = False  # a bar is drawn and the cursor sits at its end
        self.completed = False

    def count(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def __call__(self, fraction: float) -> None:
        if not math.isfinite(fraction):
            return
        fraction = min(1.0, max(0.0, fraction))
        if fraction >= 1.0 and self.completed:
            return  # the task's own "done" after the last batch already drew the full bar
        self.completed = fraction >= 1.0
        filled = int(BAR_WIDTH * fraction)
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self._numbers(fraction)}"
        self.stream.write(f"\r\x1b[K{line}")
        self.open = fraction < 1.0
        if not self.open:
            self.stream.write("\n")
        self.stream.flush()

    def _numbers(self, fraction: float) -> str:
        elapsed_s = max(self.clock() - self.started_mono_s, 1e-6)
        if self.done is None or self.total is None:
            return f"{fraction * 100:3.0f}%"
        rate = self.done / elapsed_s
        eta_s = (self.total - self.done) / rate if rate > 0 else None
        return f"{self.done}/{self.total} scenes  {rate:.1f}/s  ETA {duration(eta_s)}"

    def finish(self) -> None:
        """Leave the line a log line or the summary can start on."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def enable_terminal_sequences() -> None:
    """Windows consoles act on the "clear to end of line" sequence the bar uses only once asked to
    (Windows 10 and later); elsewhere terminals always do."""
    if os.name != "nt":
        return
    try:
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.GetStdHandle(-12)  # STD_ERROR_HANDLE
        mode = ctypes.c_uint32()
        if kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            kernel32.SetConsoleMode(handle, mode.value | 0x0004)  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
    except (AttributeError, OSError):
        pass


def duration(span_s: float | None) -> str:
    return eta_text(span_s, unknown="--")


def local_time(value: Any) -> Any:
    """Unix seconds → ``2026-05-04 14:02:11`` in the local zone; anything else unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1e8:
        return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    return value


def is_time_key(key: str) -> bool:
    return key.endswith("_at") or key in TIME_KEYS


def exit_status(output: Any, error: str | None) -> int:
    """0 all good; 1 the task failed; 3 it ran but found problems: scenes failed or sit in the dead-letter
    queue, or Health Check has warnings."""
    if error is not None:
        return EXIT_FAILED
    if isinstance(output, Mapping) and (int(output.get("failed") or 0) or int(output.get("dead") or 0)
                                        or output.get("warnings")):
        return EXIT_PROBLEMS
    return EXIT_OK


# -- results in words ---------------------------------------------------------------------------

def sync_summary(out: Mapping[str, Any]) -> list[str]:
    from worker.tasks.summary import plural

    succeeded, unchanged = int(out.get("succeeded", 0)), int(out.get("unchanged", 0))
    lines = []
    if "scanned" in out:
        differ = int(out.get("queued", out.get("stash_drift", 0)))
        lines.append(f"Looked at {plural(int(out['scanned']), 'scene')}; {differ} "
                     f"{'differs' if differ == 1 else 'differ'} from what Plex was given"
                     + (f", {out['plex_drift']} changed in Plex" if "plex_drift" in out else ""))
    lines.append(f"Synced {plural(succeeded, 'scene')} ({unchanged} already right), {out.get('failed', 0)} failed, "
                 f"{out.get('skipped', 0)} skipped, {out.get('waiting_for_plex', 0)} waiting "
                 f"for Plex; {out.get('remaining', 0)} still pending, {out.get('dead', 0)} in the dead-letter queue "
                 f"({out.get('seconds', 0)} s)")
    if out.get("message"):
        lines.append(f"Stopped: {out['message']}")
    if out.get("background_worker") and out.get("remaining"):
        lines.append(f"Background worker: {out['background_worker']}")
    return lines


def preview_summary(out: Mapping[str, Any], verbose: bool) -> list[str]:
    from worker.tasks.preview import scene_line, total_line

    scenes = out.get("scenes") or []
    return [scene_line(item) for item in scenes if verbose or item["outcome"] != "unchanged"] + [total_line(out)]


def generic_lines(value: Any, indent: str = "") -> list[str]:
    """Any result as ``Key: value`` lines, nested values indented, times shown as local date-times."""
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            label = str(key).replace("_", " ").capitalize()
            shown = local_time(item) if is_time_key(str(key)) else item
            if isinstance(shown, (Mapping, list)) and shown:
                lines.append(f"{indent}{label}:")
                lines += generic_lines(shown, indent + "  ")
            else:
                lines.append(f"{indent}{label}: {_scalar(shown)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, Mapping):
                lines.append(f"{indent}- " + "; ".join(f"{key.replace('_', ' ')}: "
                                                       f"{_scalar(local_time(v) if is_time_key(key) else v)}"
                                                       for key, v in item.items() if v not in (None, "")))
            else:
                lines.append(f"{indent}- {_scalar(item)}")
        return lines
    return [f"{indent}{_scalar(value)}"]


def _scalar(value: Any) -> str:
    if value is None or value == {} or value == []:
        return "none"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{round(value, 3):g}"
    return str(value)


def health_lines(out: Mapping[str, Any]) -> list[str]:
    """Health Check on a terminal: one fact a line, then every warning (they also make the exit status 3)."""
    from worker.tasks.summary import plural

    server = out.get("server") or {}
    libraries = [f"{lib['title']} ({plural(int(lib.get('indexed_files', 0)), 'file')} indexed; folders "
                 f"{', '.join(lib.get('locations') or []) or 'none'})" for lib in out.get("libraries") or []]
    checked = out.get("path_map") or {}
    lines = [f"Plex: {'OK' if out.get('plex') == 'ok' else out.get('plex')}"
             + (f" (server version {server['version']})" if server.get("version") else ""),
             f"Token: {out.get('token', 'not checked')}",
             f"Libraries: {'; '.join(libraries) or 'none found'}",
             f"Stash: {'OK' if out.get('stash') == 'ok' else 'not configured (pass --stash-url)'}"]
    if checked.get("sampled"):
        sampled = plural(int(checked["sampled"]), "sampled Stash path")
        lines.append(f"Path map: {checked.get('mapped_into_library', 0)} of {sampled} map into a Plex library folder")
    warnings = out.get("warnings") or []
    lines += ["Warnings:"] + [f"  - {warning}" for warning in warnings] if warnings else ["Warnings: none"]
    if out.get("background_worker"):
        lines.append(f"Background worker: {out['background_worker']}")
    return lines


def summary(mode: str, output: Any, error: str | None, verbose: bool = False) -> str:
    from worker.tasks.summary import summary_lines

    lines: list[str] = []
    if isinstance(output, Mapping) and output.get("dry_run"):
        lines += preview_summary(output, verbose)
    elif isinstance(output, Mapping) and "processed" in output:
        lines += sync_summary(output)
    elif isinstance(output, Mapping) and mode == "health" and output.get("plex") == "ok":
        lines += health_lines(output)
    elif isinstance(output, Mapping) and mode in WORDED_MODES:
        lines += summary_lines(mode, output)
    elif output is not None:
        lines += generic_lines(output)
    if error is not None:
        lines.append(f"Error: {error}")
    return "\n".join(lines)
