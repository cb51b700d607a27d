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
