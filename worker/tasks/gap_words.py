"""The gap report in words (Stash's Info lines, the command line) and as CSV, built from the report alone."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

REASON_WORDS = {
    "waiting_for_plex": "waiting for Plex",
    "ambiguous": "ambiguous",
    "failed": "failed",
    "outside_libraries": "outside the synced libraries",
    "not_found": "not found in Plex",
    "no_file": "without a file",
}
NAMED = 5  # entries of each side a task's Info lines name
CSV_COLUMNS = ("side", "scene_id", "rating_key", "library", "title", "file", "plex_path", "reason_code", "reason")


def reason_counts_text(by_reason: Mapping[str, int]) -> str:
    """' (2 waiting for Plex, 1 ambiguous)', most first; '' when there are none."""
    parts = [f"{count:,} {REASON_WORDS.get(code, code)}"
             for code, count in sorted(by_reason.items(), key=lambda pair: (-pair[1], pair[0]))]
    return f" ({', '.join(parts)})" if parts else ""


def plex_line(item: Mapping[str, Any]) -> str:
    title = f"{item['title']!r} " if item.get("title") else ""
    return f"Plex item {item['rating_key']} {title}in {item['library']}: {item['file']}"


def stash_line(item: Mapping[str, Any]) -> str:
    title = f" {item['title']!r}" if item.get("title") else ""
    return f"Scene {item['scene_id']}{title}: {REASON_WORDS.get(item['reason_code'], item['reason_code'])}: {item['reason']}"


def gap_lines(report: Mapping[str, Any], named: int | None = NAMED) -> list[str]:
    """The counts, then the first ``named`` entries of each side (None: every entry)."""
    lines = [f"{report['message']}; looked at {report['stash_scenes']:,} Stash scenes and {report['plex_items']:,} "
             f"Plex items in {', '.join(report['libraries']) or 'no library'} ({report['seconds']:g} s)"]
    for label, key, line in (("Only in Plex", "plex_only", plex_line), ("Only in Stash", "stash_only", stash_line)):
        entries = report[key]
        shown = entries if named is None else entries[:named]
        lines += [f"{label}: {line(item)}" for item in shown]
        total = report[f"{key}_count"]
        if total > len(shown):
            lines.append(f"{label}: … and {total - len(shown):,} more (all of them: python PlexSync.py gaps --csv, "
                         "or PlexSync's page)")
    return lines


def gap_csv(report: Mapping[str, Any]) -> str:
    """One row per gap, Plex-only items first: a spreadsheet's columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in report["plex_only"]:
        writer.writerow({"side": "plex_only", **item})
    for item in report["stash_only"]:
        writer.writerow({"side": "stash_only", **item})
    return out.getvalue()
