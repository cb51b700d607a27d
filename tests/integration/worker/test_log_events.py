"""log_format json names each scene outcome (docs/troubleshoot.md, "Log events")."""

from __future__ import annotations

import json

import pytest

from validation import stash_log


@pytest.fixture(autouse=True)
def default_logging():
    yield
    stash_log.configure()


def events(captured: str) -> list[dict]:
    return [json.loads(line[3:]) for line in captured.splitlines() if line.startswith("\x01")]


def test_scene_outcomes_are_named_events(world, capsys):
    world.settings(log_format="json", max_retries=2, skip_fields="poster, background")
    world.plex.add_item(world.section, file="/elsewhere/a/clip.mp4", size=5, title="clip")
    world.plex.add_item(world.section, file="/elsewhere/b/clip.mp4", size=5, title="clip")
    ambiguous = world.stash.add_scene(title="Which?", files=[{"path": "/data/other/clip.mp4", "size": 5}])
    rejected, _ = world.scene("bad.mp4", title="Rejected")
    world.plex.fail(r"^/library/sections/\d+/all$", 400, times=None, method="PUT")
    world.queue(ambiguous, rejected)
    world.run("process_queue")
    world.run("process_queue")
    named = {(e["event"], e.get("scene_id")) for e in events(capsys.readouterr().err) if e["event"] != "log"}
    assert named == {("scene.skipped", int(ambiguous)), ("scene.failed", int(rejected)),
                     ("scene.dead_lettered", int(rejected))}
