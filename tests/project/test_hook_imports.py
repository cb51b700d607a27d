"""The hook's cost is its imports and its teardown (issue 10): guards that count modules and check how the
process ends, never time.

A real hook process (PlexSync.py run as Stash runs it, ``emulators.plugin_runner``) records every module it
loaded, through a test-only ``sitecustomize`` that dumps ``sys.modules`` when the process ends (the hook ends
with ``os._exit`` after running the ``atexit`` handlers, so the dump also proves those still run).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from emulators.plugin_runner import PluginRunner
from sync_queue.store import Store

REPO = Path(__file__).resolve().parents[2]
# Never on the hook's path: the heavy clients and their stacks, persist-queue (the hook writes its row with
# sqlite3) and asyncio under it, logging (the hook writes Stash's wire itself), dataclasses, the worker's
# own tables' code (sync_queue.store and its mixins), typing (annotations only), pathlib and contextlib (the
# store's core works on text paths and a small transaction class) and, for a hook that only wakes a running
# worker, subprocess and socket.py (the wake datagram goes through _socket).
FORBIDDEN = ("plexapi", "stashapi", "pydantic", "requests", "urllib3", "asyncio", "persistqueue", "logging",
             "dataclasses", "typing", "pathlib", "contextlib", "subprocess", "socket", "sync_queue.store", "sync_queue.scenes", "sync_queue.mirror.plex_index",
             "sync_queue.stats", "validation.stash_log", "worker", "plex",
             "sync_queue.notices", "validation.stash_wire")  # a quiet hook: no worker notice to show, nothing to log
PROBE = """
import atexit, json, os, sys

def _dump(path=os.environ["PLEXSYNC_TEST_MODULES"]):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(sorted(sys.modules), out)

class _Teardown:  # freed only by the interpreter's teardown, which clears every module's globals
    def __del__(self, path=os.environ["PLEXSYNC_TEST_MODULES"] + ".teardown", opener=open):
        opener(path, "w").close()

atexit.register(_dump)
_marker = _Teardown()
"""


@pytest.fixture()
def worker_port() -> Iterator[socket.socket]:
    """Where the "running worker" listens for the hook's wake datagram."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(10)
        yield listener


@pytest.fixture()
def hook_runner(tmp_path: Path, worker_port: socket.socket) -> tuple[PluginRunner, Path, Path]:
    probe_dir, data_dir, dump = tmp_path / "probe", tmp_path / "data", tmp_path / "modules.json"
    probe_dir.mkdir()
    (probe_dir / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    with Store(data_dir) as store:  # a live worker (this test process): the hook only wakes it
        assert store.acquire_lease("test-worker", 60, pid=os.getpid(), wake_port=worker_port.getsockname()[1])
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}  # its imports
    env.update(PYTHONPATH=str(probe_dir), PLEXSYNC_DATA_DIR=str(data_dir), PLEXSYNC_TEST_MODULES=str(dump))
    runner = PluginRunner(REPO, {"Dir": str(tmp_path / "stash"), "Scheme": "http", "Port": 9}, env=env,
                          cwd=tmp_path)
    return runner, data_dir, dump


def _loaded(dump: Path) -> list[str]:
    return json.loads(dump.read_text(encoding="utf-8"))


def _forbidden(modules: list[str]) -> list[str]:
    return [name for name in modules if any(name == root or name.startswith(root + ".") for root in FORBIDDEN)]


@pytest.mark.parametrize("trigger", ["Scene.Update.Post", "Performer.Update.Post", "Scene.Destroy.Post"])
def test_a_hook_process_imports_none_of_the_heavy_modules(hook_runner, worker_port, trigger):
    runner, data_dir, dump = hook_runner
    result = runner.run_hook(trigger, 7)
    assert result.error is None and result.output["worker"] == "running", result
    assert worker_port.recv(16) == b"wake"
    assert result.protocol_errors == [] and result.logs == []
    with Store(data_dir) as store:
        assert store.intake_size() == 1  # the run was a real hook: its event is committed
    modules = _loaded(dump)
    assert "hooks.intake" in modules and "sqlite3" in modules
    assert _forbidden(modules) == []


def test_a_hook_skips_the_interpreters_teardown_but_runs_the_exit_handlers(hook_runner):
    runner, data_dir, dump = hook_runner
    assert runner.run_hook("Scene.Update.Post", 7).error is None
    assert dump.exists() and not Path(f"{dump}.teardown").exists()  # atexit ran, teardown did not
    task = runner.run_task("Queue Status")  # a task ends the ordinary way (its threads and files are its own)
    assert task.error is None and Path(f"{dump}.teardown").exists()


def test_a_failing_hook_still_reports_through_the_wire_and_runs_the_exit_handlers(hook_runner):
    runner, data_dir, dump = hook_runner
    result = runner.run_hook("Scene.Update.Post", 7)  # the owner is this Stash from now on
    assert result.error is None
    foreign = PluginRunner(REPO, {"Dir": str(data_dir.parent / "other-stash")}, env={
        **runner.env, "PLEXSYNC_DATA_DIR": str(data_dir)}, cwd=data_dir.parent)  # type: ignore[arg-type]
    refused = foreign.run_hook("Scene.Update.Post", 8)
    assert refused.error and "already belongs to the Stash" in refused.error
    assert refused.protocol_errors == [] and [level for level, _ in refused.logs] == ["error"]
    assert "logging" in _loaded(dump)  # set up only now, for the error line
    with Store(data_dir) as store:
        assert store.intake_size() == 1  # the refused event was not queued


def test_the_filter_counts_submodules_and_only_whole_names():
    assert _forbidden(["json", "logging.handlers", "plexapi", "sync_queue.database", "workerpool"]) == [
        "logging.handlers", "plexapi"]
