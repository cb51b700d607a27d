"""A task holds Stash's one-job queue no longer than min(max_task_minutes, remaining × measured average)."""

from __future__ import annotations

from types import SimpleNamespace

from sync_queue.store import Store
from worker.sync.loop import STATS_KEY
from worker.tasks.sync_tasks import task_budget_s
from worker.tasks.context import eta_text


def runtime(tmp_path, minutes=60, average=None):
    store = Store(tmp_path)
    if average is not None:
        store.set_json(STATS_KEY, {"avg_scene_seconds": average})
    return SimpleNamespace(store=store, config=SimpleNamespace(max_task_minutes=minutes))


def test_budget_follows_measured_speed(tmp_path):
    rt = runtime(tmp_path, minutes=60, average=0.1)
    assert task_budget_s(rt, 100) == 100 * 0.1 * 2 + 60  # with room for variance
    rt.store.close()


def test_budget_never_exceeds_max_task_minutes(tmp_path):
    rt = runtime(tmp_path, minutes=5, average=2.0)
    assert task_budget_s(rt, 100_000) == 300
    rt.store.close()


def test_without_measurements_the_ceiling_applies(tmp_path):
    rt = runtime(tmp_path, minutes=7)
    assert task_budget_s(rt, 10) == 420
    rt.store.close()


def test_eta_text():
    assert eta_text(None) == "unknown"
    assert eta_text(75) == "1m15s"
    assert eta_text(3 * 3600 + 120) == "3h02m"
