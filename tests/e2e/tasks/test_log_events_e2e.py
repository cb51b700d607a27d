"""log_format json as Stash runs the plugin: Stash's log lines and the detached worker's worker.log are JSON
objects with stable event names (docs/troubleshoot.md, "Log events")."""

from __future__ import annotations

import json

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e


def test_json_lines_name_their_events_in_stash_and_in_worker_log(harness):
    lib.populate_plex(harness.plex)
    scene_ids, _ = lib.populate_stash(harness.stash)
    harness.settings(log_format="json", skip_fields="poster, background")
    first = next(iter(scene_ids.values()))

    result = harness.task("Health Check")  # reads the settings: the worker's first lines follow them too
    assert all(json.loads(text)["event"] for _, text in result.logs)
    assert json.loads(result.logs[-1][1])["event"] == "task.finished"

    harness.runner.run_hook("Scene.Update.Post", int(first), input={"id": first})
    harness.wait_idle()
    lines = (harness.data_dir / "logs" / "worker.log").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line, from the first, is one object
    assert {"event": "scene.synced", "scene_id": int(first)}.items() <= next(
        r for r in records if r["event"] == "scene.synced").items()

