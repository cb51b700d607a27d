"""``python PlexSync.py demo``: the whole product against the bundled Stash and Plex emulators, on a small library
whose paths differ between Stash and Plex; exits 0 when scenes synced.

With ``--serve`` both emulators keep running afterwards, the emulated Stash serving PlexSync's page, until
Ctrl+C: a newcomer clicks through the page and tries the command line against them.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.plugin_runner import PluginRunner
from emulators.stash.server import StashEmulator

SHOWN_FIELDS = ("title", "summary", "tagline", "studio", "originallyAvailableAt", "year", "userRating")
SHOWN_TAGS = ("genre", "actor", "director", "collection")
WAIT_S = 60.0


def snapshot(plex: PlexEmulator, rating_keys: dict[str, int]) -> dict[int, dict[str, Any]]:
    state = {}
    for rating_key in rating_keys.values():
        item = plex.item(rating_key)
        fields = {name: item.fields.get(name) for name in SHOWN_FIELDS if item.fields.get(name)}
        tags = {name: list(item.tags.get(name, [])) for name in SHOWN_TAGS if item.tags.get(name)}
        state[rating_key] = {**fields, **tags, "posters": len(item.posters), "locked": sorted(item.locks)}
    return state


def wait_until_synced(runner: PluginRunner, expected: int) -> dict[str, Any]:
    deadline_s = time.time() + WAIT_S
    status: dict[str, Any] = {}
    while time.time() < deadline_s:
        status = runner.run_task("Queue Status").output or {}
        settled = (status.get("pending", 1) == 0 and status.get("in_progress", 1) == 0
                   and status.get("fanout_pending", 1) == 0 and not status.get("worker_running", True))
        if settled and status.get("synced", 0) + status.get("skipped", 0) >= expected:
            return status
        time.sleep(0.5)
    return status


def print_changes(before: dict[int, dict], after: dict[int, dict], out) -> int:
    changed = 0
    for rating_key, new in after.items():
        old = before[rating_key]
        diffs = [(key, old.get(key), value) for key, value in new.items() if old.get(key) != value and key != "locked"]
        if not diffs:
            continue
        changed += 1
        print(f"\nPlex item {rating_key}: {old.get('title')!r}", file=out)
        for key, was, now in diffs:
            print(f"  {key:<22} {was!r} → {now!r}", file=out)
        print(f"  {'locked':<22} {', '.join(new['locked'])}", file=out)
    return changed


def run_demo(out=sys.stdout, serve: bool = False, until: Callable[[], None] | None = None) -> int:
    """The demo; with ``serve``, then ``until()`` (by default: Ctrl+C) with both emulators still running."""
    plugin_dir = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="plexsync-demo-") as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        _, rating_keys = lib.populate_plex(plex)
        scene_ids, performer_ids = lib.populate_stash(stash)
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url))
        runner = stash.install_plugin(plugin_dir, tmp).runner  # the emulated Stash runs the page's operations too
        try:
            code = _show(plex, stash, runner, scene_ids, performer_ids, rating_keys, out)
            if serve and code == 0:
                serve_until_stopped(plex, stash, runner, Path(tmp), out, until or wait_for_ctrl_c)
            return code
        finally:
            stop_worker(Path(tmp) / "plugin_data" / "PlexSync")


def _show(plex: PlexEmulator, stash: StashEmulator, runner: PluginRunner, scene_ids: dict[str, str],
          performer_ids: dict[str, str], rating_keys: dict[str, int], out) -> int:
    """Scan hooks, a performer rename, Sync All on an unchanged library and a play import: what changed in Plex."""
    before = snapshot(plex, rating_keys)
    print(f"Stash emulator at {stash.url}, Plex emulator at {plex.url}", file=out)
    print(f"Stash sees {lib.STASH_ROOT}/…, Plex sees {lib.PLEX_ROOT}/…  (path_map: {lib.PATH_MAP})", file=out)

    started_mono_s = time.monotonic()
    for scene_id in scene_ids.values():  # a library scan creates each scene: one hook per scene
        result = runner.run_hook("Scene.Create.Post", int(scene_id), input=None)
        if result.error:
            print(f"hook failed: {result.error}", file=out)
            return 1
    hook_ms = (time.monotonic() - started_mono_s) * 1000 / len(scene_ids)
    print(f"Fired {len(scene_ids)} scan hooks, {hook_ms:.0f} ms each (the save never waits for Plex)", file=out)
    status = wait_until_synced(runner, len(scene_ids))
    after = snapshot(plex, rating_keys)
    changed = print_changes(before, after, out)

    print("\nA performer is renamed in Stash (no scene hook fires, only Performer.Update.Post):", file=out)
    ava = performer_ids["Ava Stone"]
    stash.rename_performer(ava, "Ava Stone-Hart")
    runner.run_hook("Performer.Update.Post", int(ava), input={"id": ava, "name": "Ava Stone-Hart"},
                    input_fields=["id", "name"])
    status = wait_until_synced(runner, len(scene_ids))
    renamed = snapshot(plex, rating_keys)
    print_changes(after, renamed, out)

    writes_before = plex.writes()
    resync = runner.run_task("Sync All Scenes").output or {}
    print(f"\nSync All on an unchanged library: {resync.get('scanned', 0)} scenes compared, "
          f"{plex.writes() - writes_before} Plex writes", file=out)
    show_play_import(plex, stash, runner, scene_ids, rating_keys, out)
    synced = int(status.get("synced", 0))
    print(f"\nSynced {synced} of {len(scene_ids)} scenes ({changed} Plex items updated; "
          f"{status.get('skipped', 0)} skipped, {status.get('dead', 0)} dead letters, "
          f"{status.get('plex_requests', 0)} Plex requests in all).", file=out)
    return 0 if synced > 0 else 1


WAITING_FILE = "Incoming/New scene.mp4"  # --serve: a scene whose file Plex has not listed yet


def serve_until_stopped(plex: PlexEmulator, stash: StashEmulator, runner: PluginRunner, tmp: Path, out,
                        until: Callable[[], None]) -> None:
    """Leave something to look at (a scene Plex has not listed yet, a fresh Health Check), say where
    everything is, and wait."""
    waiting = stash.add_scene(title="New scene (not in Plex yet)",
                              files=[{"path": f"{lib.STASH_ROOT}/{WAITING_FILE}", "size": 4_000_000}])
    runner.run_hook("Scene.Create.Post", int(waiting), input=None)
    runner.run_task("Health Check")
    data_dir = tmp / "plugin_data" / "PlexSync"
    shell = "set" if os.name == "nt" else "export"
    print(f"""
The emulators keep running until you press Ctrl+C.
  Stash (emulated), with PlexSync's page:  {stash.url}/plugin/PlexSync
  Plex (emulated):                         {plex.url}  (token {lib.PLEX_TOKEN})
Try the command line against them, in another terminal in this folder:
  {shell} PLEXSYNC_STASH_URL={stash.url}
  {shell} PLEXSYNC_DATA_DIR={data_dir}
  python PlexSync.py status
  python PlexSync.py health
  python PlexSync.py sync-all --dry-run
(PlexSync's settings come from the emulated Stash, as they would from yours.)""", file=out, flush=True)
    until()


def wait_for_ctrl_c() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopped.")


def stop_worker(data_dir: Path) -> None:
    """The demo's background worker would outlive the emulators it talks to (and the temporary folder)."""
    from sync_queue.store import Store

    if not (data_dir / "plexsync.db").exists():
        return
    with Store(data_dir) as store:
        holder = store.lease_holder()
    if holder is not None and holder["pid"]:
        try:
            os.kill(int(holder["pid"]), signal.SIGTERM)
        except OSError:
            pass  # already gone


def show_play_import(plex, stash, runner, scene_ids, rating_keys, out) -> None:
    """Someone watches a scene in Plex; the Import Plex Plays task puts the play into Stash (issue 14)."""
    path = lib.SCENES[0].relative_path
    plex.watch.play(rating_keys[path], viewed_stamp=int(time.time()) - 3600)
    result = runner.run_task("Import Plex Plays")
    scene = stash.scene(scene_ids[path])
    print(f"\nWatched {scene['title']!r} in Plex an hour ago; Import Plex Plays: "
          f"{(result.output or {}).get('message', result.error)}; Stash play history now "
          f"{stash.plays.history(scene_ids[path])}", file=out)


def main(serve: bool = False) -> int:
    return run_demo(serve=serve)
