"""log_format json: each line is one object whose "event" names the outcome (docs/troubleshoot.md, "Log
events"); the detached worker's worker.log follows the setting from its first line."""

from __future__ import annotations

import io
import json
import os

import pytest

from sync_queue.schema import KV_SETTINGS_CACHE
from sync_queue.store import Store
from validation import stash_log
from validation.stash_log import event


@pytest.fixture(autouse=True)
def default_logging():
    yield
    stash_log.configure()


def test_a_named_line_carries_its_event_and_fields_and_others_say_log():
    stream = io.StringIO()
    logger = stash_log.configure(stream=stream, json_format=True)
    logger.info("Scene 3 → Plex item 9", extra=event("scene.synced", scene_id=3, rating_key=9))
    logger.info("something else")
    first, second = (json.loads(line[3:]) for line in stream.getvalue().splitlines())
    assert list(first)[:5] == ["event", "ts", "level", "logger", "msg"]
    assert (first["event"], first["scene_id"], first["rating_key"]) == ("scene.synced", 3, 9)
    assert second["event"] == "log"


def test_text_format_is_unchanged_by_an_event():
    stream = io.StringIO()
    logger = stash_log.configure(stream=stream)
    logger.info("Scene 3 synced", extra=event("scene.synced", scene_id=3))
    assert stream.getvalue() == "\x01i\x02Scene 3 synced\n"


def test_worker_log_lines_are_bare_json_objects():
    stream = io.StringIO()
    logger = stash_log.configure(plain_file=stream, json_format=True)
    logger.warning("two\nlines", extra=event("queue.paused", kind="auth"))
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["event"] == "queue.paused" and json.loads(line)["msg"] == "two\nlines"


def test_the_circuit_opening_is_one_named_line(tmp_path):
    from worker.sync.breaker import FAILURE_THRESHOLD, Breaker

    stream = io.StringIO()
    stash_log.configure(stream=stream, json_format=True)
    with Store(tmp_path) as store:
        breaker = Breaker(store)
        for _ in range(FAILURE_THRESHOLD + 2):
            breaker.record_failure("connection refused")
    events = [json.loads(line[3:])["event"] for line in stream.getvalue().splitlines()]
    assert events == ["circuit.opened"]


def test_the_detached_worker_writes_json_before_it_reads_the_settings(tmp_path):
    from worker.process.daemon import run_detached

    data_dir = tmp_path / "data"
    with Store(data_dir) as store:
        store.set_json(KV_SETTINGS_CACHE, {"enabled": True, "settle_seconds": 0, "log_format": "json"})
        assert store.acquire_lease("someone-else", 60, pid=os.getpid())
    assert run_detached({"data_dir": str(data_dir), "server_connection": {}}, tmp_path) == 0
    lines = (data_dir / "logs" / "worker.log").read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line)["msg"] for line in lines)
    assert json.loads(lines[0])["msg"] == "Another worker holds the lease; exiting"
