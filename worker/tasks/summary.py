"""What a task did, in words: the Info lines Stash shows at its default level, built from the task's output alone.

Stash logs a task's ``output`` only at Debug, so without these lines a user would see nothing of the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from worker.tasks.reasons import explain_entry, short_words
from worker.stash.titles import TITLES_KEY, scene_name

SCENES_NAMED = 3  # scenes named per kind of problem in a sync's one line, before "and N more"
STATUS_NAMED = 5  # scenes named per kind of problem in Queue Status
FIXES = {
    "ambiguous": "map its path with Path map, or remove the duplicate in Plex",
    "dead": "see Queue Status; Retry Failed Jobs after fixing it",
}
SYNC_HEADS = {"process_queue": "Process Queue", "sync_all": "Sync All", "sync_recent": "Sync Recent",
              "reconcile": "Reconcile"}
LABELS = {"dead": "Failed", "waiting_for_plex": "Waiting for Plex", "skipped": "Skipped",
          "synced_in_part": "Synced in part"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def local_time(moment_s: Any) -> str:
    if not isinstance(moment_s, (int, float)) or not moment_s:
        return "never"
    return datetime.fromtimestamp(moment_s).strftime("%Y-%m-%d %H:%M")


def summary_lines(mode: str, output: Mapping[str, Any]) -> list[str]:
    """The Info lines that end a task (several for Queue Status, one for every other task)."""
    if mode == "status":
        return status_lines(output)
    if mode == "gaps":
        from worker.tasks.gap_words import gap_lines

        return gap_lines(output)
    if "skipped" in output and isinstance(output["skipped"], str):  # switched off in its settings
        scenes = int(output.get("remaining", 0))
        return [f"{output['skipped']}: nothing was synced; {plural(scenes, 'scene')} and "
                f"{plural(output.get('fanout_pending', 0), 'performer/studio/tag/group change')} stay queued"]
    if mode in SYNC_HEADS:
        figures = [f"{SYNC_HEADS[mode]} figures: {stats_text(output['run_stats'])}"] if output.get("run_stats") else []
        return figures + [f"{SYNC_HEADS[mode]}: {_scope(mode, output)}{sync_text(output)}"]
    return [_one_line(mode, output)]


def _one_line(mode: str, output: Mapping[str, Any]) -> str:
    if mode == "health":
        return health_text(output)
    if mode == "clear_queue":
        return (f"Clear Pending Queue: dropped {plural(output['cleared'], 'pending job')}; those scenes sync again "
                "when edited or by Sync All")
    if mode == "clear_dlq":
        return f"Clear Dead-Letter Queue: deleted {plural(output['cleared'], 'dead letter')}"
    if mode == "purge_dlq":
        return (f"Purge Old Dead Letters: deleted {plural(output['purged'], 'dead letter')} older than "
                f"{output['older_than_days']:g} days")
    if mode == "retry_dlq":
        return (f"Retry Failed Jobs: moved {plural(output['requeued'], 'dead letter')} back to the queue; "
                "Process Queue syncs them now")
    if mode == "rebuild_index":
        return (f"Rebuild Plex Index: forgot {plural(output['forgotten_links'], 'link')}, indexed "
                f"{plural(output['indexed_files'], 'file')} in {', '.join(output['libraries']) or 'no library'}; "
                "scenes match again on their next sync")
    return f"{mode}: done"


def _scope(mode: str, output: Mapping[str, Any]) -> str:
    if mode == "reconcile":
        return (f"{plural(output.get('stash_drift', 0), 'scene')} differ in Stash, "
                f"{output.get('plex_drift', 0):,} drifted or vanished in Plex. ")
    if "scanned" in output:
        return f"{output.get('queued', 0):,} of {plural(output['scanned'], 'scene')} differed from Plex. "
    return ""


def sync_text(output: Mapping[str, Any]) -> str:
    """'Synced 3 (2 already up to date); 1 ambiguous ('Harbour Lights' (scene 7): …); 2 waiting for Plex …'."""
    unchanged = output.get("unchanged", 0)
    parts = [f"Synced {output.get('succeeded', 0) - unchanged:,}"
             + (f" ({unchanged:,} more already up to date)" if unchanged else "")]
    attention = output.get("attention") or []
    titles = output.get(TITLES_KEY)
    for state, words in (("ambiguous", "ambiguous"), ("dead", "dead-lettered"), ("gone", "gone from Stash"),
                         ("not_in_plex", "not in Plex (skipped)")):
        named = [entry for entry in attention if entry["state"] == state]
        if named:
            parts.append(f"{len(named):,} {words} ({_scenes(named, FIXES.get(state), titles)})")
    waiting = [entry for entry in attention if entry["state"] == "waiting_for_plex"]
    if waiting:
        parts.append(f"{len(waiting):,} waiting for Plex to list {'its' if len(waiting) == 1 else 'their'} file")
    retrying = output.get("failed", 0) - sum(entry["state"] == "dead" for entry in attention)
    if retrying > 0:
        parts.append(f"{retrying:,} failed and will be retried")
    if output.get("remaining"):
        parts.append(f"{plural(output['remaining'], 'scene')} still queued" + _background(output))
    if output.get("stopped") in ("auth", "config", "outage", "stash") and output.get("message"):
        parts.append(f"stopped: {output['message']}")
    return "; ".join(parts)


def _scenes(entries: list[Mapping[str, Any]], fix: str | None, titles: Mapping[str, str] | None) -> str:
    names = ", ".join(scene_name(entry["scene_id"], titles) for entry in entries[:SCENES_NAMED])
    more = f" and {len(entries) - SCENES_NAMED} more" if len(entries) > SCENES_NAMED else ""
    return f"{names}{more}: {fix}" if fix else f"{names}{more}"


def _background(output: Mapping[str, Any]) -> str:
    worker = str(output.get("background_worker", ""))
    return " (a background worker goes on with them)" if worker in ("started", "running") else ""


def health_text(output: Mapping[str, Any]) -> str:
    libraries = output.get("libraries") or []
    named = [f"{lib['title']} ({plural(lib.get('indexed_files', 0), 'file')} indexed)" for lib in libraries]
    text = f"Plex OK: {'library' if len(named) == 1 else 'libraries'} {', '.join(named) or 'none found'}"
    text += f"; Stash {'OK' if output.get('stash') == 'ok' else 'not configured'}"
    if str(output.get("background_worker", "")) in ("started", "running"):
        text += "; the queued work goes on in the background"
    for problem in (output.get("path_map") or {}).get("problems") or []:
        text += f"; Path map: {problem}"
    return text


def stats_text(stats: Mapping[str, Any]) -> str:
    """'3 synced, 2 unchanged, 1 failed (refused by Plex 1), 0 dead-lettered; links: 2 by path, …; 0.4 s a scene'."""
    failed, dead, methods = stats.get("failed") or {}, stats.get("dead_lettered") or {}, stats.get("methods") or {}
    text = (f"{stats.get('synced', 0):,} synced, {stats.get('unchanged', 0):,} unchanged, "
            f"{sum(failed.values()):,} failed{_by_reason(failed)}, {sum(dead.values()):,} dead-lettered; "
            f"links: {methods.get('path', 0):,} by path, {methods.get('basename_size', 0):,} by file name and size, "
            f"{methods.get('ambiguous', 0):,} ambiguous, {methods.get('not_found', 0):,} not found in Plex")
    if stats.get("avg_seconds") is not None:
        text += f"; {stats['avg_seconds']:.2f} s a scene on average, p90 {stats['p90_seconds']:.2f} s"
    return text


def _by_reason(counts: Mapping[str, int]) -> str:
    merged: dict[str, int] = {}
    for name, number in counts.items():
        merged[short_words(name)] = merged.get(short_words(name), 0) + number
    return f" ({', '.join(f'{words} {number:,}' for words, number in sorted(merged.items()))})" if merged else ""


# -- Queue Status -------------------------------------------------------------------------------------------

def connection_text(status: Mapping[str, Any]) -> str:
    """'OK', or 'failing, next try at 14:02:11': the circuit breaker, in words."""
    state = status.get("circuit")
    if state == "open":
        retry_at_s = status.get("circuit_retry_at")
        retry_text = (datetime.fromtimestamp(retry_at_s).strftime("%H:%M:%S") if isinstance(retry_at_s, (int, float))
                      else "soon")
        return f"failing, next try at {retry_text}"
    if state == "half_open":
        return "failing, being tried again now"
    return "OK"


def ready_to_sync(status: Mapping[str, Any]) -> int:
    """``pending`` counts every scene with work; a scene waiting for Plex's listing or out a retry delay is
    shown under those instead, never twice."""
    return max(0, int(status.get("pending", 0)) - int(status.get("waiting_for_plex", 0))
               - int(status.get("in_backoff", 0)))


def named_scene_ids(status: Mapping[str, Any]) -> list[int]:
    """The scenes Queue Status names, for one title lookup."""
    entries = list(status.get("dead_letters") or []) + list(status.get("needs_attention") or [])
    return [int(entry["scene_id"]) for entry in entries]


def status_lines(status: Mapping[str, Any]) -> list[str]:
    fanout = int(status.get("fanout_pending", 0))
    lines = [
        f"Queue: {ready_to_sync(status):,} ready to sync, {status.get('in_progress', 0):,} syncing now, "
        f"{status.get('waiting_for_plex', 0):,} waiting for Plex, {status.get('in_backoff', 0):,} retrying later, "
        f"{status.get('dead', 0):,} failed; {status.get('synced', 0):,} synced, {status.get('skipped', 0):,} skipped"
        + (f"; {plural(fanout, 'performer/studio/tag/group change')} to look up" if fanout else ""),
        f"Plex connection: {connection_text(status)}; background worker "
        f"{'running' if status.get('worker_running') else 'not running'}; last sync {local_time(status.get('last_sync_at'))}",
    ]
    pause = status.get("paused")
    if isinstance(pause, Mapping):
        since = f" since {local_time(pause['since'])}" if pause.get("since") else ""
        lines.append(f"Paused{since}: {pause.get('message')} — run Health Check after fixing it")
    failure = status.get("worker_start_failure")
    if isinstance(failure, Mapping):
        lines.append(f"The background worker could not start: {failure.get('message')}")
    lines += scene_problem_lines(status)
    methods = status.get("match_methods") or {}
    if methods:
        lines.append(f"Links: {methods.get('path', 0):,} by path, {methods.get('basename_size', 0):,} by file name "
                     "and size")
    figures = status.get("stats") or {}
    for label, key in (("Last run", "last_run"), ("Since install", "since_install")):
        if figures.get(key) and (key == "last_run" or figures[key].get("scenes_timed")):
            lines.append(f"{label}: {stats_text(figures[key])}")
    if status.get("worker_log"):
        lines.append(f"The background worker's log: {status['worker_log']}")
    return lines


def scene_problem_lines(status: Mapping[str, Any]) -> list[str]:
    """One line per kind of problem and fix: 'Failed: 'Harbour Lights' (scene 25): Plex refused … To fix: …'."""
    titles = status.get(TITLES_KEY)
    letters = sorted(status.get("dead_letters") or [], key=lambda letter: -float(letter.get("last_failed_at") or 0))
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in list(letters) + list(status.get("needs_attention") or []):
        state = "dead" if "error_class" in entry else str(entry.get("state"))
        reason = explain_entry(entry)
        label = LABELS.get(state, state.replace("_", " ").capitalize())
        if entry.get("reason_class") == "AmbiguousMatch" or entry.get("state") == "ambiguous":
            label = "Skipped, ambiguous"
        tried = f" (tried {plural(int(entry['attempts']), 'time')})" if state == "dead" and entry.get("attempts") else ""
        groups.setdefault((label, reason.fix), []).append(f"{scene_name(entry['scene_id'], titles)}: "
                                                          f"{reason.words}{tried}")
    lines = []
    for (label, fix), named in groups.items():
        more = f"; and {len(named) - STATUS_NAMED} more" if len(named) > STATUS_NAMED else ""
        lines.append(f"{label}: {'; '.join(named[:STATUS_NAMED])}{more}" + (f". To fix: {fix}" if fix else ""))
    unlisted = int(status.get("dead", 0)) - len(letters)
    if unlisted > 0:
        lines.append(f"Failed: {plural(unlisted, 'older dead letter')} not named here (the PlexSync page lists "
                     "every one)")
    return lines
