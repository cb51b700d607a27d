"""What a task did, in words: the Info lines Stash shows at its default level.

Stash logs a task's ``output`` only at Debug, so each task ends with a line a person reads ("Synced 3; 1
ambiguous (scene 7: …)"), and Queue Status answers in a few lines. Built from the task's ``output`` alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

SCENES_NAMED = 3  # scenes named per kind of problem before "and N more"
FIXES = {
    "ambiguous": "map its path with path_map, or remove the duplicate in Plex",
    "dead": "see Queue Status; Retry Failed Jobs after fixing it",
}
STATE_WORDS = {"waiting_for_plex": "waiting for Plex to list its file"}
SYNC_HEADS = {"process_queue": "Process Queue", "sync_all": "Sync All", "sync_recent": "Sync Recent",
              "reconcile": "Reconcile"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def local_time(stamp: Any) -> str:
    if not isinstance(stamp, (int, float)) or not stamp:
        return "never"
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def summary_lines(mode: str, output: Mapping[str, Any]) -> list[str]:
    """The Info lines that end a task (several for Queue Status, one for every other task)."""
    if mode == "status":
        return status_lines(output)
    if mode == "gaps":
        from worker.gap_words import gap_lines

        return gap_lines(output)
    if "skipped" in output and isinstance(output["skipped"], str):  # switched off in its settings
        return [f"{output['skipped']}: nothing was synced; {plural(output.get('remaining', 0), 'scene')} and "
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
    """'Synced 3 (2 already up to date); 1 ambiguous (scene 7: …); 2 waiting for Plex to list their file'."""
    unchanged = output.get("unchanged", 0)
    parts = [f"Synced {output.get('succeeded', 0) - unchanged:,}"
             + (f" ({unchanged:,} more already up to date)" if unchanged else "")]
    attention = output.get("attention") or []
    for state, words in (("ambiguous", "ambiguous"), ("dead", "dead-lettered"), ("gone", "gone from Stash"),
                         ("not_in_plex", "not in Plex (skipped)")):
        named = [entry for entry in attention if entry["state"] == state]
        if named:
            parts.append(f"{len(named):,} {words} ({_scenes(named, FIXES.get(state))})")
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


def _scenes(entries: list[Mapping[str, Any]], fix: str | None) -> str:
    ids = ", ".join(str(entry["scene_id"]) for entry in entries[:SCENES_NAMED])
    more = f" and {len(entries) - SCENES_NAMED} more" if len(entries) > SCENES_NAMED else ""
    label = "scene" if len(entries) == 1 else "scenes"
    return f"{label} {ids}{more}: {fix}" if fix else f"{label} {ids}{more}"


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
        text += f"; path_map: {problem}"
    return text


def stats_text(stats: Mapping[str, Any]) -> str:
    """'3 synced, 2 unchanged, 1 failed (PlexRejected 1), 0 dead-lettered; links: 2 by path, …; 0.4 s a scene'."""
    failed, dead, methods = stats.get("failed") or {}, stats.get("dead_lettered") or {}, stats.get("methods") or {}
    text = (f"{stats.get('synced', 0):,} synced, {stats.get('unchanged', 0):,} unchanged, "
            f"{sum(failed.values()):,} failed{_by_class(failed)}, {sum(dead.values()):,} dead-lettered; "
            f"links: {methods.get('path', 0):,} by path, {methods.get('basename_size', 0):,} by file name and size, "
            f"{methods.get('ambiguous', 0):,} ambiguous, {methods.get('not_found', 0):,} not found in Plex")
    if stats.get("avg_seconds") is not None:
        text += f"; {stats['avg_seconds']:.2f} s a scene on average, p90 {stats['p90_seconds']:.2f} s"
    return text


def _by_class(counts: Mapping[str, int]) -> str:
    return f" ({', '.join(f'{name} {number:,}' for name, number in sorted(counts.items()))})" if counts else ""


def status_lines(status: Mapping[str, Any]) -> list[str]:
    lines = [
        f"Queue: {status['pending']:,} pending, {status['in_progress']:,} in progress, "
        f"{plural(status.get('fanout_pending', 0), 'performer/studio/tag/group change')}, "
        f"{plural(status['dead'], 'dead letter')}; {status['synced']:,} synced, {status.get('skipped', 0):,} skipped",
        f"Worker {'running' if status.get('worker_running') else 'not running'}; Plex circuit {status['circuit']}; "
        f"last sync {local_time(status.get('last_sync_at'))}",
    ]
    pause = status.get("paused")
    if isinstance(pause, Mapping):
        since = f" since {local_time(pause['since'])}" if pause.get("since") else ""
        lines.append(f"Paused{since}: {pause.get('message')} — run Health Check after fixing it")
    failure = status.get("worker_start_failure")
    if isinstance(failure, Mapping):
        lines.append(f"The background worker could not start: {failure.get('message')}")
    methods = status.get("match_methods") or {}
    if methods:
        lines.append(f"Links: {methods.get('path', 0):,} by path, {methods.get('basename_size', 0):,} by file name "
                     "and size")
    figures = status.get("stats") or {}
    for label, key in (("Last run", "last_run"), ("Since install", "since_install")):
        if figures.get(key) and (key == "last_run" or figures[key].get("scenes_timed")):
            lines.append(f"{label}: {stats_text(figures[key])}")
    attention = status.get("needs_attention") or []
    if attention:
        shown = "; ".join(f"scene {entry['scene_id']} {STATE_WORDS.get(entry['state'], entry['state'])}"
                          + (f" ({entry['reason_class']})" if entry.get("reason_class") else "")
                          for entry in attention[:5])
        more = f"; and {len(attention) - 5} more" if len(attention) > 5 else ""
        lines.append(f"Needs attention: {shown}{more}")
    return lines
