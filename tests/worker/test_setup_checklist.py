"""The setup checklist's lines from what Health Check recorded and the queue's newer state (a pause, an open
circuit): each line that is not ticked says what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sync_queue.store import Store
from validation.config import ConfigError
from worker.tasks.setup_checklist import checklist, record_health
from worker.tasks.context import TaskContext
from worker.tasks.handlers import queue_status, run_task

REPO = Path(__file__).resolve().parents[2]
OK_HEALTH = {"plex": "ok", "stash": "ok", "libraries": [{"title": "Movies", "locations": ["/media"],
                                                         "indexed_files": 1204}],
             "path_map": {"sampled": 3, "mapped_into_library": 3, "problems": [], "suggestion": None}}


def lines(store: Store) -> dict[str, dict]:
    return {item["key"]: item for item in checklist(store, queue_status(store))}


def test_health_check_with_unusable_settings_is_what_the_first_line_says(tmp_path):
    ctx = TaskContext(data_dir=tmp_path, plugin_dir=REPO, entry_script=REPO / "PlexSync.py")
    with pytest.raises(ConfigError):
        run_task("health", ctx)  # no Plex URL or token anywhere
    with Store(tmp_path) as store:
        plex = lines(store)["plex"]
    assert plex["state"] == "problem" and "Plex URL is not set" in plex["text"]
    assert plex["fix"].startswith("Fix it in Settings → Plugins → PlexSync, then press Health Check")


def test_a_rejected_token_and_an_open_circuit_outrank_an_older_good_check(tmp_path):
    from worker.sync.breaker import Breaker
    from worker.sync.pauses import set_pause

    with Store(tmp_path) as store:
        record_health(store, OK_HEALTH)
        good = lines(store)
        assert {key: item["state"] for key, item in good.items()} == {
            "plex": "ok", "token": "ok", "libraries": "ok", "path_map": "ok", "sync_all": "unknown"}
        assert good["libraries"]["text"] == "Movies (/media; 1,204 files listed)"
        set_pause(store, "auth", "Plex rejected the token (401)")
        for _ in range(10):
            Breaker(store).record_failure("refused")
        now = lines(store)
    assert now["token"]["state"] == "problem" and "Set Plex token" in now["token"]["fix"]
    assert now["plex"]["state"] == "problem" and "Plex URL" in now["plex"]["fix"]
    assert now["token"]["checked_at"] <= time.time()
