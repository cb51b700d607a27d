"""Seconds per scene (average and nearest-rank p90) and the schema-4 upgrade of an older store file."""

from __future__ import annotations

import sqlite3

from sync_queue import schema
from sync_queue.stats import seconds_figures
from sync_queue.store import Store


def test_p90_is_the_nearest_rank_over_every_timed_scene():
    assert seconds_figures([(0.1, 9), (1.0, 1)]) == {"scenes_timed": 10, "avg_seconds": 0.19, "p90_seconds": 0.1}
    assert seconds_figures([(0.1, 8), (1.0, 2)])["p90_seconds"] == 1.0
    assert seconds_figures([]) == {"scenes_timed": 0, "avg_seconds": None, "p90_seconds": None}


def test_a_schema_3_file_gains_the_stats_tables_and_keeps_its_rows(tmp_path):
    conn = sqlite3.connect(tmp_path / schema.DB_FILE)
    for statement in schema.ALL_DDL:
        if "sync_s" not in statement:
            conn.execute(statement)
    conn.execute("INSERT INTO scenes(scene_id, generation) VALUES(7, 1)")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Store(tmp_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 4
        assert store.scene_state(7)["generation"] == 1
        store.record_scene_seconds("run", 0.25, 2)
        assert store.run_stats("run")["scenes_timed"] == 2


def test_since_install_timings_stay_a_bounded_table_with_the_same_figures(tmp_path):
    """A month of batches: one row per batch made the store grow every day (the soak showed it)."""
    batches = [(round(0.004 + (n % 997) * 0.0173 + (n % 13) * 1e-5, 6), 1 + n % 7) for n in range(5000)]
    with Store(tmp_path) as store:
        for number, (per_scene, scenes) in enumerate(batches):
            store.record_scene_seconds(f"run{number // 50}", per_scene, scenes)
        rows = store.conn.execute("SELECT COUNT(*) FROM sync_seconds WHERE scope = 'total'").fetchone()[0]
        total = store.run_stats("total")
    exact = seconds_figures(sorted(batches))
    assert rows <= 1000, rows
    assert total["scenes_timed"] == exact["scenes_timed"]
    assert abs(total["avg_seconds"] - exact["avg_seconds"]) <= exact["avg_seconds"] * 0.001
    assert abs(total["p90_seconds"] - exact["p90_seconds"]) <= exact["p90_seconds"] * 0.001
