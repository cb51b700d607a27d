"""No OSError drops a spooled event: an unreadable file is kept, retried and reported; an undeletable one is
applied once and never stops the worker; a file spooled during an absorb waits for the next.

An undeletable file is what a Windows sharing violation leaves."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sync_queue.intake import spool
from sync_queue.intake import spool_ledger
from sync_queue.store import Store
from validation import stash_log


@pytest.fixture()
def store(tmp_path: Path):
    stash_log.configure()  # Info lines on stderr, as a task shows them
    with Store(tmp_path) as opened:
        yield opened


def spooled(store: Store, scene_id: int) -> Path:
    return spool.spool_event(store.data_dir, {"kind": "scene", "id": str(scene_id), "event": "Scene.Update.Post",
                                              "at": time.time()})


def generation(store: Store, scene_id: int) -> int | None:
    state = store.scene_state(scene_id)
    return None if state is None else state["generation"]


def test_a_file_that_cannot_be_read_now_is_kept_tried_again_and_reported(store, monkeypatch, capfd):
    path = spooled(store, 5)
    real_read = spool.read_event
    share = {"down": True}

    def flaky_read(candidate: Path):
        if candidate.name == path.name and share["down"]:
            raise OSError(24, "Too many open files")
        return real_read(candidate)

    monkeypatch.setattr(spool, "read_event", flaky_read)
    for attempt in range(1, spool_ledger.REPORT_AFTER_ATTEMPTS + 1):
        assert store.absorb_intake(0) == 0
        assert path.exists() and generation(store, 5) is None  # kept, not applied, not dropped
        assert store.status_counts(None)["intake"] == 1  # still work to do
        reported = store.status_counts(None)["spool_unreadable"]
        assert reported == (1 if attempt == spool_ledger.REPORT_AFTER_ATTEMPTS else 0)
    err = capfd.readouterr().err
    assert err.count(f"\x01i\x02A spooled hook event ({path}) could not be read 3 times (") == 1
    assert "Too many open files" in err
    share["down"] = False
    assert store.absorb_intake(0) == 1  # the share is back
    assert generation(store, 5) == 1 and not path.exists()
    assert store.status_counts(None)["spool_unreadable"] == 0 and store.get_json(spool_ledger.UNREADABLE_KEY) == {}


def test_a_file_that_cannot_be_deleted_is_applied_once_and_stops_nothing(store, monkeypatch, capfd):
    path = spooled(store, 6)
    real_unlink = Path.unlink

    def locked(self: Path, *args, **kwargs):
        if self.name == path.name:
            raise PermissionError(32, "The process cannot access the file because it is being used")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", locked)
    assert store.absorb_intake(0) == 1
    assert generation(store, 6) == 1 and path.exists()
    assert "could not be deleted" in capfd.readouterr().err
    for _ in range(3):  # every later absorb tries the delete again, and never applies it again
        assert store.absorb_intake(0) == 0
    assert generation(store, 6) == 1
    assert store.status_counts(None)["intake"] == 0 and store.pending_scene_ids() == {6}
    monkeypatch.setattr(Path, "unlink", real_unlink)
    store.absorb_intake(0)
    assert not path.exists() and store.get_json(spool_ledger.APPLIED_KEY) == {} and generation(store, 6) == 1


def test_a_file_spooled_while_the_worker_absorbs_waits_for_the_next_absorb(store, monkeypatch):
    spooled(store, 7)
    late: list[Path] = []
    real_apply = Store._apply_event

    def apply_while_a_hook_spools(self, event, settle_seconds):
        if not late:
            late.append(spooled(store, 8))  # a hook found the database busy: the absorb holds the lock
        return real_apply(self, event, settle_seconds)

    monkeypatch.setattr(Store, "_apply_event", apply_while_a_hook_spools)
    assert store.absorb_intake(0) == 1
    assert late[0].exists() and generation(store, 8) is None  # not deleted unread
    assert store.absorb_intake(0) == 1
    assert generation(store, 8) == 1 and not late[0].exists()


def test_a_file_that_is_not_json_is_no_event_and_goes(store):
    spooled(store, 9)
    (spool.spool_dir(store.data_dir) / "00000000000000000001-1-abcd.json").write_bytes(b"\xff{not json")
    assert store.absorb_intake(0) == 1
    assert store.pending_scene_ids() == {9} and spool.spooled_files(store.data_dir) == []


def test_clearing_the_queue_clears_an_undeletable_file_for_good(store, monkeypatch):
    path = spooled(store, 10)
    real_unlink = Path.unlink
    monkeypatch.setattr(Path, "unlink", lambda self, *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied"))
                        if self.name == path.name else real_unlink(self, *a, **k))
    assert store.clear_intake() == 1
    assert store.absorb_intake(0) == 0 and generation(store, 10) is None
