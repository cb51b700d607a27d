"""Sync figures kept in the store, exact: per run (the lease token a run's outcomes are recorded under) and
since install.

Outcome counts are written in the transaction that records the outcome, so they can't drift from what
happened. Names in ``sync_stats``: ``synced``, ``unchanged``, ``failed:<class>`` (retried or dead-lettered),
``dead:<class>``, ``skipped:<class>`` and ``method:<how>`` (path / basename_size / ambiguous / not_found).
"""

from __future__ import annotations

import math
import sqlite3
import time
from typing import Any, Sequence

TOTAL = "total"  # the "since install" scope
RUNS_KEPT = 20  # older runs' rows are dropped; "total" keeps their figures
# Since install, batches of equal seconds per scene (to 3 significant digits) share one row: the table stays a few
# hundred rows however long PlexSync runs (one row per batch grew the store every day), and the average and p90
# move by at most 0.05%.
TOTAL_DIGITS = 3
METHOD_OF_CLASS = {"AmbiguousMatch": "ambiguous", "ItemNotInPlex": "not_found"}


def synced_names(outcome: str, match_method: str | None) -> list[str]:
    return [outcome] + ([f"method:{match_method}"] if match_method else [])


def retry_names(error_class: str) -> list[str]:
    method = METHOD_OF_CLASS.get(error_class)
    return [f"method:{method}"] if method else [f"failed:{error_class}"]


def skipped_names(error_class: str) -> list[str]:
    method = METHOD_OF_CLASS.get(error_class)
    return [f"skipped:{error_class}"] + ([f"method:{method}"] if method else [])


def dead_names(error_class: str) -> list[str]:
    return [f"failed:{error_class}", f"dead:{error_class}"]


def count(conn: sqlite3.Connection, token: str, names: Sequence[str]) -> None:
    """Add one to each name for this run and since install; inside the caller's transaction."""
    now_s = time.time()
    conn.executemany(
        "INSERT INTO sync_stats(scope, name, count, updated_at) VALUES(?, ?, 1, ?) "
        "ON CONFLICT(scope, name) DO UPDATE SET count = count + 1, updated_at = excluded.updated_at",
        [(scope, name, now_s) for scope in (token, TOTAL) for name in names],
    )


class StatsMixin:
    conn: sqlite3.Connection

    def transaction(self) -> Any:  # provided by Store
        raise NotImplementedError

    def record_scene_seconds(self, token: str, per_scene_s: float, scenes: int) -> None:
        """A batch of ``scenes`` took ``per_scene_s`` each; drops the runs beyond the newest RUNS_KEPT."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO sync_seconds(scope, per_scene, scenes) VALUES(?, ?, ?)",
                         (token, per_scene_s, scenes))
            add_to_total(conn, per_scene_s, scenes)
            conn.execute("INSERT INTO sync_stats(scope, name, count, updated_at) VALUES(?, 'timed', 0, ?) "
                         "ON CONFLICT(scope, name) DO UPDATE SET updated_at = excluded.updated_at",
                         (token, time.time()))
            old = [row[0] for row in conn.execute(
                "SELECT scope FROM sync_stats WHERE scope != ? GROUP BY scope ORDER BY MAX(updated_at) DESC "
                "LIMIT -1 OFFSET ?", (TOTAL, RUNS_KEPT))]
            for table in ("sync_stats", "sync_seconds"):
                conn.executemany(f"DELETE FROM {table} WHERE scope = ?", [(scope,) for scope in old])

    def run_stats(self, scope: str) -> dict[str, Any]:
        """The figures of one run (its lease token) or, with ``TOTAL``, since install."""
        rows = self.conn.execute("SELECT name, count FROM sync_stats WHERE scope = ?", (scope,)).fetchall()
        figures: dict[str, Any] = {"synced": 0, "unchanged": 0, "failed": {}, "dead_lettered": {}, "skipped": {},
                                   "methods": {"path": 0, "basename_size": 0, "ambiguous": 0, "not_found": 0}}
        groups = {"failed": "failed", "dead": "dead_lettered", "skipped": "skipped", "method": "methods"}
        for name, number in rows:
            group, _, key = name.partition(":")
            if group in groups:
                figures[groups[group]][key] = figures[groups[group]].get(key, 0) + number
            elif name in ("synced", "unchanged"):
                figures[name] = number
        seconds = self.conn.execute("SELECT per_scene, scenes FROM sync_seconds WHERE scope = ? ORDER BY per_scene",
                                    (scope,)).fetchall()
        return {**figures, **seconds_figures([(row[0], row[1]) for row in seconds])}

    def last_run_scope(self) -> str | None:
        row = self.conn.execute("SELECT scope FROM sync_stats WHERE scope != ? GROUP BY scope "
                                "ORDER BY MAX(updated_at) DESC LIMIT 1", (TOTAL,)).fetchone()
        return row[0] if row else None

    def sync_stats(self) -> dict[str, Any]:
        """``{"last_run": …, "since_install": …}`` as Queue Status shows them."""
        last = self.last_run_scope()
        return {"last_run": self.run_stats(last) if last else None, "since_install": self.run_stats(TOTAL)}


def add_to_total(conn: sqlite3.Connection, per_scene: float, scenes: int) -> None:
    """Count ``scenes`` under the since-install row of their (rounded) seconds per scene."""
    rounded = float(f"{per_scene:.{TOTAL_DIGITS}g}")
    updated = conn.execute("UPDATE sync_seconds SET scenes = scenes + ? WHERE scope = ? AND per_scene = ?",
                           (scenes, TOTAL, rounded)).rowcount
    if not updated:
        conn.execute("INSERT INTO sync_seconds(scope, per_scene, scenes) VALUES(?, ?, ?)", (TOTAL, rounded, scenes))


def seconds_figures(batches: list[tuple[float, int]]) -> dict[str, Any]:
    """Average and p90 (nearest rank) seconds per scene over ``(per_scene, scenes)`` sorted by ``per_scene``."""
    scenes = sum(number for _, number in batches)
    if not scenes:
        return {"scenes_timed": 0, "avg_seconds": None, "p90_seconds": None}
    rank, seen, p90 = math.ceil(0.9 * scenes), 0, batches[-1][0]
    for per_scene, number in batches:
        seen += number
        if seen >= rank:
            p90 = per_scene
            break
    average = sum(per_scene * number for per_scene, number in batches) / scenes
    return {"scenes_timed": scenes, "avg_seconds": round(average, 4), "p90_seconds": round(p90, 4)}
