"""Hooks under pressure and data directories in odd places, run exactly as Stash runs the plugin."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from emulators import demo_library as lib
from emulators.plugin_runner import PluginRunner
from tests.e2e.conftest import REPO, Harness
from sync_queue.store import Store

pytestmark = pytest.mark.e2e

BURST_HOOKS = 1000
BURST_SCENES = 250


def test_a_burst_of_a_thousand_hooks_loses_no_event(harness):
    """A bulk edit or a big scan fires a hook per scene, many at once (scan runs several workers)."""
    harness.settings(settle_seconds=3600)  # only intake: nothing syncs while we count
    scene_ids = [harness.stash.add_scene(title=f"Burst {n}", files=[{"path": f"{lib.STASH_ROOT}/burst/{n}.mp4",
                                                                    "size": n + 1}]) for n in range(BURST_SCENES)]

    def fire(n: int):
        return harness.runner.run_hook("Scene.Update.Post", int(scene_ids[n % BURST_SCENES]), input=None)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(fire, range(BURST_HOOKS)))
    failures = [r.error for r in results if r.error is not None or r.exit_code != 0]
    assert failures == [], failures[:5]
    assert all(json.loads(r.stdout_raw)["output"]["queued"] == "scene" for r in results)
    assert harness.status()["pending"] == BURST_SCENES


@pytest.mark.parametrize("folder", ["Stash Daten ✓", "東京 のStash", "C- drive, (x86) & more"])
def test_a_data_dir_with_spaces_and_non_ascii_works_end_to_end(stash, plex, tmp_path, folder):
    world = Harness(stash, plex, tmp_path / folder / "config")
    world.settings()
    section = plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
    key = plex.add_item(section, file=f"{lib.PLEX_ROOT}/ünïcode.mp4", size=5, title="x")
    scene_id = stash.add_scene(title="Daten ✓", files=[{"path": f"{lib.STASH_ROOT}/ünïcode.mp4", "size": 5}])
    hook = world.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
    assert hook.error is None, hook.error
    assert world.task("Process Queue").error is None
    world.wait_idle()
    assert plex.item(key).fields["title"] == "Daten ✓"
    assert (world.data_dir / "plexsync.db").exists() and str(world.data_dir).endswith("plugin_data/PlexSync")


def test_a_data_dir_that_cannot_exist_is_one_clear_json_error(stash, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runner = PluginRunner(REPO, stash.server_connection(data_dir=str(blocker), plugin_dir=str(REPO)))
    result = runner.run_hook("Scene.Update.Post", 1, input=None)
    assert result.exit_code == 0 and result.output is None
    assert str(blocker) in result.error and "PlexSync" in result.error, result.error
    assert ("error", result.error) in result.logs or any(level == "error" for level, _ in result.logs)


def test_a_missing_stash_config_folder_is_created(stash, tmp_path):
    config = tmp_path / "new" / "stash-config"
    runner = PluginRunner(REPO, stash.server_connection(data_dir=str(config), plugin_dir=str(REPO)))
    result = runner.run_hook("Scene.Update.Post", 7, input=None)
    assert result.error is None, result.error
    with Store(config / "plugin_data" / "PlexSync") as store:
        assert 7 in store.unabsorbed_scene_ids() or store.scene_state(7) is not None
