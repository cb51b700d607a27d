"""The detached worker's notable outcomes reach Stash's log once, through the next hook or task."""

from __future__ import annotations

import io

from sync_queue.notices import add_notice
from sync_queue.store import Store
from tests.integration.conftest import REPO
from validation import stash_log


def run_worker(world) -> None:
    from worker.process.daemon import run_detached

    handoff = {"data_dir": str(world.data_dir),
               "server_connection": world.stash.server_connection(str(world.data_dir), str(REPO))}
    try:
        assert run_detached(handoff, REPO) == 0
    finally:
        stash_log.configure()


def hook_warnings(world, monkeypatch, scene_id) -> list[str]:
    from hooks.intake import handle_hook

    monkeypatch.setattr("sync_queue.intake.launcher.spawn_worker", lambda entry, handoff, cwd: 0)
    stream = io.StringIO()
    stash_log.configure(stream=stream)
    payload = {"server_connection": world.stash.server_connection(str(world.data_dir), str(REPO)),
               "args": {"hookContext": {"id": int(scene_id), "type": "Scene.Update.Post"}}}
    handle_hook(payload, world.data_dir, REPO / "PlexSync.py")
    with Store(world.data_dir) as store:  # the next hook must find the lease free again
        store.conn.execute("DELETE FROM lease")
    return [line[3:] for line in stream.getvalue().splitlines() if line.startswith("\x01w\x02")]


def test_an_ambiguous_match_in_the_background_is_shown_once_by_the_next_hook(world, monkeypatch):
    for folder in ("a", "b"):  # two Plex items a name-and-size guess can't choose between
        world.plex.add_item(world.section, file=f"/elsewhere/{folder}/twin.mp4", size=5, title=folder)
    scene_id = world.stash.add_scene(title="Twin", files=[{"path": "/data/x/twin.mp4", "size": 5}])
    world.queue(scene_id)
    run_worker(world)
    [shown] = hook_warnings(world, monkeypatch, scene_id)
    assert shown.startswith("Background worker, since ")
    assert f"1 scene matched ambiguously, so not synced: {scene_id}" in shown
    assert hook_warnings(world, monkeypatch, scene_id) == []  # once, not on every save


def test_notices_gather_until_shown_and_a_task_shows_them(world):
    from worker.tasks.handlers import announce_worker_notice

    with Store(world.data_dir) as store:
        add_notice(store, dead=[3, 9])
        add_notice(store, dead=[9, 12], problem="Plex says the library 'Films' does not exist",
                   needs_health_check=True)
    stream = io.StringIO()
    stash_log.configure(stream=stream)
    announce_worker_notice(world.data_dir)
    announce_worker_notice(world.data_dir)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("\x01w\x02Background worker, since ")
    assert lines[0].endswith(": 3 scenes dead-lettered (see Queue Status): 3, 9, 12; Plex says the library 'Films' "
                             "does not exist — run Health Check after fixing it")
