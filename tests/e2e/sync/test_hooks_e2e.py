"""Hooks as Stash runs them: coalescing, cost, isolation from the worker, concurrency, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from emulators import demo_library as lib
from sync_queue.store import Store
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.e2e

CONTRACT_STATUS_KEYS = {"pending", "in_progress", "dead", "synced", "circuit", "worker_running", "last_sync_at",
                        "plex_requests"}


class PlexGate:
    """Matching Plex requests wait at the door until :meth:`release` (recorded first, then held).

    "The worker is mid-push" without timing luck: while the gate is shut the worker cannot finish, however
    slow or fast the machine is. Wraps the emulator's fault hook for this test only."""

    def __init__(self, plex, path_regex: str, method: str, hold_seconds: float = 120.0) -> None:
        self.plex, self.pattern, self.method, self.hold_seconds = plex, re.compile(path_regex), method, hold_seconds
        self.arrived = threading.Event()
        self._open = threading.Event()
        self._take_faults = plex.take_faults

    def _gated_take_faults(self, method: str, path: str, target: str):
        if method == self.method and self.pattern.search(path) and not self._open.is_set():
            self.arrived.set()
            self._open.wait(self.hold_seconds)
        return self._take_faults(method, path, target)

    def release(self) -> None:
        self._open.set()

    def __enter__(self) -> PlexGate:
        self.plex.take_faults = self._gated_take_faults  # the handler looks it up per request
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.plex.take_faults = self._take_faults


PUT_EDITS = r"^/library/sections/\d+/all$"


def title_puts(plex, rating_key: int) -> list[str]:
    """The titles PlexSync wrote to one item, in the order Plex received them."""
    puts = [r for r in list(plex.requests) if r.method == "PUT" and r.param("id") == str(rating_key)]
    return [r.param("title.value") for r in puts if r.param("title.value") is not None]


def add_scenes(stash, count: int) -> list[str]:
    return [stash.add_scene(title=f"Scene {n}", files=[{"path": f"{lib.STASH_ROOT}/s{n}.mp4", "size": 1000 + n}])
            for n in range(count)]


def ui_edit(scene_id: str) -> dict:
    return {"id": scene_id, "title": "Edited", "details": None, "date": None, "rating100": None,
            "studio_id": None, "performer_ids": [], "tag_ids": []}


def hook_shapes(scene_ids: list[str]):
    """(input, inputFields) the way UI edits, bulk edits, identify and scans send them (stash-protocol §2.2)."""
    bulk = {"ids": scene_ids[:10], "tag_ids": {"ids": ["1"], "mode": "ADD"}}
    return [
        lambda sid: (ui_edit(sid), list(ui_edit(sid))),
        lambda sid: (bulk, ["ids", "tag_ids"]),
        lambda sid: ({"id": sid, "title": "From stash-box", "stash_ids": [{"endpoint": "e", "stash_id": "x"}]},
                     ["id", "title", "stash_ids"]),
        lambda sid: (None, None),
    ]


def test_fifty_hooks_over_thirty_scenes_leave_thirty_pending_each_once(harness):
    harness.settings(settle_seconds=3600)  # the worker absorbs and then waits: we can count
    scene_ids = add_scenes(harness.stash, 30)
    shapes = hook_shapes(scene_ids)
    fired = [scene_ids[n % 30] for n in range(50)]
    for number, scene_id in enumerate(fired):
        hook_input, fields = shapes[number % len(shapes)](scene_id)
        result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=hook_input, input_fields=fields)
        assert result.error is None and result.output["queued"] == "scene"
    status = harness.status()
    assert status["pending"] == 30  # counted once each, whether or not a worker absorbed them yet
    deadline = time.time() + 30
    while time.time() < deadline and (status["intake"] or status["worker_running"]):
        time.sleep(0.2)
        status = harness.status()
    assert status["pending"] == 30 and status["intake"] == 0
    with Store(harness.data_dir) as store:
        states = [store.scene_state(int(sid)) for sid in scene_ids]
    assert all(state is not None for state in states)
    assert sorted(state["generation"] for state in states) == sorted(fired.count(sid) for sid in scene_ids)


MODULE_PROBE = r"""
import atexit, runpy, sys

def report():  # at exit: a hook ends with os._exit once atexit handlers ran, so code after run_path never runs
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("plexapi", "stashapi", "pydantic", "requests",
                   "asyncio", "persistqueue", "regex", "logging") or m == "sync_queue.store")
    sys.stderr.write("HEAVY=" + ",".join(heavy) + "\n")

atexit.register(report)
sys.argv = [sys.argv[1]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
"""


def test_hook_process_imports_no_plexapi_stashapi_or_pydantic(harness, tmp_path):
    scene_id = add_scenes(harness.stash, 1)[0]
    payload = {"server_connection": harness.runner.server_connection,
               "args": {"hookContext": {"id": int(scene_id), "type": "Scene.Update.Post", "input": None}}}
    proc = subprocess.run([sys.executable, "-c", MODULE_PROBE, str(REPO / "PlexSync.py")],
                          input=json.dumps(payload).encode(), capture_output=True, cwd=tmp_path, timeout=60)
    assert json.loads(proc.stdout)["error"] is None
    heavy_line = [line for line in proc.stderr.decode().splitlines() if line.startswith("HEAVY=")]
    assert heavy_line == ["HEAVY="], proc.stderr.decode()[-2000:]


def test_hook_returns_before_the_worker_finishes_and_never_waits_on_it(harness):
    harness.settings(settle_seconds=0)
    scene_id = add_scenes(harness.stash, 1)[0]
    section = harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    rating_key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/s0.mp4", size=1000, title="s0")
    with PlexGate(harness.plex, PUT_EDITS, "PUT") as gate:  # the worker's write hangs until we let it go
        try:
            # The runner reads stdout to EOF, as Stash does: a worker holding it would keep this waiting,
            # and the worker cannot finish while its PUT hangs.
            result = harness.runner.run_hook("Scene.Create.Post", int(scene_id), input=None, timeout=60)
        except TimeoutError:
            pytest.fail("Stash waited for the worker: it must not inherit stdout/stderr")
        assert result.error is None and result.output["worker"] == "started"
        with Store(harness.data_dir) as store:
            holder, state = store.lease_holder(), store.scene_state(int(scene_id))
        assert holder is not None, "the worker must still be running after the hook returned"
        assert state is None or state["status"] != "synced"
        assert gate.arrived.wait(60), "the worker never pushed to Plex"
        status = harness.status()  # a separate process sees it working, held up by Plex
        assert status["worker_running"] is True and status["synced"] == 0, status
    final = harness.wait_idle()
    assert final["synced"] == 1
    assert title_puts(harness.plex, rating_key) == ["Scene 0"]


def test_forty_concurrent_hooks_lose_nothing(harness):
    harness.settings(settle_seconds=3600)
    scene_ids = add_scenes(harness.stash, 40)
    results = {}

    def fire(scene_id):
        results[scene_id] = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)

    threads = [threading.Thread(target=fire, args=(sid,)) for sid in scene_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.error is None and r.exit_code == 0 for r in results.values()), [r.error for r in results.values()]
    logs = "\n".join(text for r in results.values() for _, text in r.logs) + harness.all_log_text()
    assert "database is locked" not in logs
    assert harness.status()["pending"] == 40


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"server_connection": {}}', "args"),
        (b'{"server_connection": {"Dir": "/tmp"}, "args": {"hookContext": {"id": "x", "type": "Scene.Update.Post"}}}',
         "numeric object id"),
        (b'{"server_connection": {"Dir": "/tmp"}, "args": {"hookContext": {"id": 1, "type": "Nope.Post"}}}',
         "does not handle"),
        (b'{"server_connection": {"Dir": "/tmp"}, "args": {"mode": "explode"}}', "Unknown task mode"),
        (b"\x00" * (5 * 1024 * 1024), "not valid JSON"),
    ],
    ids=["empty", "not-json", "array", "no-args", "bad-hook-id", "bad-hook-type", "unknown-mode", "5MB"],
)
def test_garbage_stdin_gives_one_json_error_and_exit_zero(harness, stdin, needle, tmp_path, monkeypatch):
    result = harness.runner.run_raw(stdin.replace(b"/tmp", str(tmp_path).encode()))
    assert result.exit_code == 0
    parsed = json.loads(result.stdout_raw)
    assert parsed["output"] is None and needle in parsed["error"]


def test_performer_rename_queues_exactly_the_scenes_that_carry_it(harness):
    stash = harness.stash
    star = stash.add_performer("Ava")
    other = stash.add_performer("Bo")
    carrying = [stash.add_scene(title=f"A{n}", performer_ids=[star], files=[{"path": f"/x/a{n}.mp4", "size": 1}])
                for n in range(3)]
    others = [stash.add_scene(title=f"B{n}", performer_ids=[other], files=[{"path": f"/x/b{n}.mp4", "size": 1}])
              for n in range(4)]
    harness.plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    harness.settings(settle_seconds=0, skip_not_found=True)
    with Store(harness.data_dir) as store:
        before = {sid: (store.scene_state(int(sid)) or {}).get("generation", 0) for sid in carrying + others}
    stash.rename_performer(star, "Ava Renamed")
    result = harness.runner.run_hook("Performer.Update.Post", int(star), input={"id": star, "name": "Ava Renamed"},
                                     input_fields=["id", "name"])
    assert result.output["queued"] == "performer"
    harness.wait_idle()
    with Store(harness.data_dir) as store:
        after = {sid: (store.scene_state(int(sid)) or {}).get("generation", 0) for sid in carrying + others}
    assert {sid for sid in after if after[sid] > before[sid]} == set(carrying)


def test_status_output_matches_the_contract(harness):
    status = harness.status()
    assert CONTRACT_STATUS_KEYS <= set(status)
    assert status["circuit"] in ("closed", "open", "half_open")
    assert isinstance(status["worker_running"], bool)
    assert isinstance(status["plex_requests"], int)


def test_an_edit_during_its_own_sync_is_synced_again(harness):
    stash, plex = harness.stash, harness.plex
    section = plex.add_section(title="Mid", locations=["/media/stash"], type="movie")
    rating_key = plex.add_item(section, file="/media/stash/mid.mp4", size=77, title="mid")
    scene_id = stash.add_scene(title="First", files=[{"path": f"{lib.STASH_ROOT}/mid.mp4", "size": 77}])
    harness.settings(settle_seconds=0)
    with PlexGate(plex, PUT_EDITS, "PUT") as gate:  # the first metadata PUT hangs until the edit is in
        harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
        assert gate.arrived.wait(60), "the worker never pushed to Plex"
        with Store(harness.data_dir) as store:
            claimed = store.scene_state(int(scene_id))
        assert claimed["claim_token"] is not None and claimed["claimed_generation"] == claimed["generation"]
        assert title_puts(plex, rating_key) == ["First"]  # mid-sync: "First" is on its way to Plex
        stash.update_scene(scene_id, title="Second")
        result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input={"id": scene_id, "title": "Second"},
                                         input_fields=["id", "title"])
        assert result.error is None and result.output["worker"] == "running", result.output
    harness.wait_idle()
    assert title_puts(plex, rating_key) == ["First", "Second"]  # the edit made during the sync was pushed too
    assert plex.item(rating_key).fields["title"] == "Second"
    with Store(harness.data_dir) as store:
        state = store.scene_state(int(scene_id))
    assert state["generation"] == state["done_generation"] == claimed["generation"] + 1 and state["status"] == "synced"
