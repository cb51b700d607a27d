"""Hook context → intake event, for every trigger PlexSync subscribes to."""

from __future__ import annotations

import sqlite3
import time

import pytest

from hooks.intake import (DISABLED_RECHECK_S, HookError, IntakeError, event_from_hook, handle_hook,
                          known_disabled)
from sync_queue.intake.spool import spooled_files
from sync_queue.store import Store


@pytest.mark.parametrize(
    ("trigger", "kind"),
    [
        ("Scene.Create.Post", "scene"),
        ("Scene.Update.Post", "scene"),
        ("Scene.Destroy.Post", "destroy"),
        ("Performer.Update.Post", "performer"),
        ("Studio.Update.Post", "studio"),
        ("Tag.Update.Post", "tag"),
        ("Group.Update.Post", "group"),
    ],
)
def test_each_trigger_maps_to_its_kind(trigger, kind):
    event = event_from_hook({"id": 42, "type": trigger, "input": None}, now_s=100.0)
    assert event == {"kind": kind, "id": "42", "event": trigger, "at": 100.0}


def test_tag_merge_queues_the_destination_tag():
    context = {"id": 3, "type": "Tag.Merge.Post", "input": {"source": ["3", "4"], "destination": "9"}}
    assert event_from_hook(context)["id"] == "9"


def test_string_ids_are_accepted():
    assert event_from_hook({"id": "17", "type": "Scene.Update.Post"})["id"] == "17"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (None, "hookContext must be an object"),
        ([], "hookContext must be an object"),
        ({"id": 1}, "hookContext.type is missing"),
        ({"id": 1, "type": "Image.Update.Post"}, "does not handle"),
        ({"type": "Scene.Update.Post"}, "numeric object id"),
        ({"id": "abc", "type": "Scene.Update.Post"}, "numeric object id"),
        ({"id": True, "type": "Scene.Update.Post"}, "numeric object id"),
    ],
)
def test_bad_hook_context_is_named(context, message):
    with pytest.raises(HookError, match=message):
        event_from_hook(context)


def test_switched_off_plugin_keeps_edits_queued_and_starts_no_worker(tmp_path):
    with Store(tmp_path) as store:
        store.set_json("settings_cache", {"enabled": False, "read_at": time.time()})
    payload = {"args": {"hookContext": {"id": 1, "type": "Scene.Update.Post"}}, "server_connection": {}}
    result = handle_hook(payload, tmp_path, tmp_path / "PlexSync.py")
    assert result["queued"] == "scene" and result["worker"] == "disabled"
    with Store(tmp_path) as store:
        assert store.intake_size() == 1 and store.lease_holder() is None  # kept for when it is on again


def test_a_stale_off_switch_is_rechecked_by_a_worker():
    now = time.time()
    assert known_disabled({"enabled": False, "read_at": now - 5}, now)
    assert not known_disabled({"enabled": False, "read_at": now - DISABLED_RECHECK_S - 1}, now)
    assert not known_disabled({"enabled": False}, now)  # written before read_at existed: ask again
    assert not known_disabled({"enabled": True, "read_at": now}, now)


def _hook_payload(scene_id: int) -> dict:
    return {"args": {"hookContext": {"id": scene_id, "type": "Scene.Update.Post"}}, "server_connection": {}}


def test_a_busy_database_spools_the_event_and_the_worker_absorbs_it(tmp_path, monkeypatch):
    monkeypatch.setattr("hooks.intake.HOOK_BUSY_TIMEOUT_S", 0.2)
    with Store(tmp_path) as store:
        store.set_json("settings_cache", {"enabled": False, "read_at": time.time()})  # no worker spawn here
    writer = sqlite3.connect(tmp_path / "plexsync.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long writer holds the lock for the whole hook
    try:
        result = handle_hook(_hook_payload(5), tmp_path, tmp_path / "PlexSync.py")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result == {"queued": "scene", "id": "5", "worker": "disabled", "spooled": True}
    with Store(tmp_path) as store:
        assert store.intake_size() == 1 and store.status_counts(None)["pending"] == 1
        assert store.absorb_intake(settle_s=0) == 1
        assert store.intake_size() == 0 and store.pending_scene_ids() == {5}
        assert spooled_files(tmp_path) == []


def test_a_hooks_waits_for_a_busy_database_share_one_deadline(tmp_path, monkeypatch):
    """Owner write, intake insert and starting a worker each meet the lock; together they wait the timeout once."""
    monkeypatch.setattr("hooks.intake.HOOK_BUSY_TIMEOUT_S", 0.6)
    worker = Store(tmp_path)
    worker.conn  # a worker has the file open (its WAL stays) ...
    writer = sqlite3.connect(tmp_path / "plexsync.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # ... and a long writer holds the lock for the whole hook
    payload = {**_hook_payload(5), "server_connection": {"Dir": str(tmp_path / "stash"), "Port": 9999}}
    started = time.monotonic()
    try:
        result = handle_hook(payload, tmp_path, tmp_path / "PlexSync.py")
    finally:
        elapsed = time.monotonic() - started
        writer.execute("ROLLBACK")
        writer.close()
        worker.close()
    assert result == {"queued": "scene", "id": "5", "worker": "busy", "spooled": True}
    assert 0.6 <= elapsed < 1.0  # three waits of their own would take 1.8 s


def test_an_event_neither_the_database_nor_the_spool_takes_is_an_error_that_says_so(tmp_path, monkeypatch):
    def no_spool(data_dir, event):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hooks.intake.spool_event", no_spool)
    (tmp_path / "plexsync.db").mkdir()  # cannot be opened as a file at all
    with pytest.raises(IntakeError, match=r"NOT queued") as raised:
        handle_hook(_hook_payload(5), tmp_path, tmp_path / "PlexSync.py")
    assert "No space left on device" in str(raised.value) and "unable to open database" in str(raised.value)
