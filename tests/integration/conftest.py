"""In-process integration: tasks called directly (no subprocess) against both emulators, for fast coverage
of every branch of the worker; the e2e suite proves the same paths as Stash runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
import stashapi.log  # noqa: F401  (its log handler keeps the stderr of its import: the session's, not a test's capsys)

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from sync_queue.store import Store
from worker.tasks.handlers import TaskContext, run_task

REPO = Path(__file__).resolve().parents[2]


class World:
    def __init__(self, tmp_path: Path, stash: StashEmulator, plex: PlexEmulator) -> None:
        self.stash, self.plex = stash, plex
        self.data_dir = tmp_path / "data"
        self.section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
        self.settings()

    def settings(self, **overrides) -> None:
        self.stash.set_plugin_settings("PlexSync", lib.plugin_settings(self.plex.url, **overrides))

    def scene(self, name: str, size: int = 100, plex: bool = True, **fields) -> tuple[str, int | None]:
        rating_key = self.plex.add_item(self.section, file=f"{lib.PLEX_ROOT}/{name}", size=size, title=name) \
            if plex else None
        scene_id = self.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/{name}", "size": size}], **fields)
        return scene_id, rating_key

    def run(self, mode: str, **args):
        ctx = TaskContext(data_dir=self.data_dir, plugin_dir=REPO, entry_script=REPO / "PlexSync.py",
                          server_connection=self.stash.server_connection(str(self.data_dir), str(REPO)), args=args)
        return run_task(mode, ctx)

    def runtime(self):
        """What a worker or task builds: settings read from the Stash emulator, store, Plex client."""
        from worker.tasks.sync_tasks import open_runtime

        return open_runtime(TaskContext(data_dir=self.data_dir, plugin_dir=REPO, entry_script=REPO / "PlexSync.py",
                                        server_connection=self.stash.server_connection(str(self.data_dir),
                                                                                       str(REPO))))

    def queue(self, *scene_ids) -> None:
        with Store(self.data_dir) as store:
            store.queue_scenes([int(s) for s in scene_ids])

    def state(self, scene_id) -> dict:
        with Store(self.data_dir) as store:
            return store.scene_state(int(scene_id))


@pytest.fixture()
def world(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        yield World(tmp_path, stash, plex)
