"""Fixtures for running PlexSync as Stash runs it, against both emulators."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.plugin_runner import PluginRunner
from emulators.stash.server import StashEmulator

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def plex():
    with PlexEmulator(token=lib.PLEX_TOKEN) as emulator:
        yield emulator


@pytest.fixture()
def stash():
    with StashEmulator() as emulator:
        yield emulator


class Harness:
    """One Stash + Plex + plugin install, with helpers the tests share."""

    def __init__(self, stash: StashEmulator, plex: PlexEmulator, stash_dir: Path) -> None:
        self.stash, self.plex, self.stash_dir = stash, plex, stash_dir
        self.data_dir = stash_dir / "plugin_data" / "PlexSync"
        self.runner = PluginRunner(REPO, stash.server_connection(data_dir=str(stash_dir), plugin_dir=str(REPO)))

    def settings(self, **overrides) -> None:
        self.stash.set_plugin_settings("PlexSync", lib.plugin_settings(self.plex.url, **overrides))

    def task(self, name: str, **args):
        return self.runner.run_task(name, args_map=args or None, timeout=180)

    def status(self) -> dict:
        result = self.task("Queue Status")
        assert result.error is None, result.error
        return result.output

    def wait_idle(self, timeout: float = 60.0) -> dict:
        """Until the detached worker has nothing pending or in progress and has exited."""
        deadline = time.time() + timeout
        status = {}
        while time.time() < deadline:
            status = self.status()
            idle = status["pending"] == 0 and status["in_progress"] == 0 and status["fanout_pending"] == 0
            if idle and not status["worker_running"]:
                return status
            time.sleep(0.3)
        raise AssertionError(f"worker did not finish: {status}")

    def all_log_text(self) -> str:
        texts = []
        for path in self.data_dir.rglob("*"):
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(texts)


@pytest.fixture()
def harness(stash, plex, tmp_path):
    h = Harness(stash, plex, tmp_path / "stash")
    h.settings()
    yield h
    stop_detached_worker(h.data_dir)


def stop_detached_worker(data_dir: Path) -> None:
    """Leave no detached worker behind (it would outlive the emulators)."""
    import os
    import signal

    from sync_queue.store import Store

    if not data_dir.exists():
        return
    with Store(data_dir) as store:
        holder = store.lease_holder()
    if holder is not None and holder["pid"]:
        try:
            os.kill(holder["pid"], getattr(signal, "SIGKILL", signal.SIGTERM))
        except OSError:
            pass


def kill_after_third_write(harness, mutation_name: str, task: str) -> int:
    """Run ``task`` and SIGKILL it once Stash has applied its third ``mutation_name``, before that answer reaches
    the plugin (Stash took the write; the plugin never learns it did). Returns the killed run's exit code."""
    mutation = harness.stash.schema.mutation_type.fields[mutation_name]
    original, calls, reached, release = mutation.resolve, [], threading.Event(), threading.Event()

    def applies_then_hangs(root, info, **kwargs):
        answer = original(root, info, **kwargs)
        calls.append(kwargs)
        if len(calls) == 3:
            reached.set()
            release.wait(30)
        return answer

    mutation.resolve = applies_then_hangs
    running = harness.runner.start_task(task)
    try:
        assert reached.wait(60), f"{task} never reached its third {mutation_name}"
        running.kill()
        return running.wait(30).exit_code
    finally:
        release.set()
        mutation.resolve = original
