"""The Python side of PlexSync's pages: runPluginOperation through the emulated Stash, which runs the real
PlexSync.py with exactly the args the page sends (no defaultArgs), as Stash does."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from tests.emulators.test_schema_fidelity import SCHEMA_DIR

REPO = Path(__file__).resolve().parents[2]
UI_SCRIPTS = (REPO / "ui" / "plexsync.js", REPO / "ui" / "plexsync-page.js")  # PlexSync.yml's ui.javascript


@pytest.fixture()
def stash_with_plugin(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        section = plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
        plex.add_item(section, file=f"{lib.PLEX_ROOT}/a.mp4", size=10, title="a")
        stash.add_scene(title="A", files=[{"path": f"{lib.STASH_ROOT}/a.mp4", "size": 10}])
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url))
        stash.install_plugin(REPO, tmp_path)
        yield stash


def operation(stash: StashEmulator, args: dict) -> dict:
    body = json.dumps({"query": "mutation($a: Map) { runPluginOperation(plugin_id: \"PlexSync\", args: $a) }",
                       "variables": {"a": args}}).encode()
    request = urllib.request.Request(stash.url + "/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("args, expected", [
    ({"mode": "ui", "op": "delete_everything"}, "Unknown PlexSync page operation 'delete_everything'"),
    ({"mode": "ui"}, "Unknown PlexSync page operation None"),
    ({"mode": "ui", "op": ["scene"]}, "Unknown PlexSync page operation ['scene']"),
    ({"mode": "ui", "op": {"name": "overview"}}, "Unknown PlexSync page operation {'name': 'overview'}"),
    ({"mode": "ui", "op": 7}, "Unknown PlexSync page operation 7"),
    ({"mode": "ui", "op": "scene", "scene_id": "1; DROP TABLE scenes"}, "scene_id must be a positive whole number"),
    ({"mode": "ui", "op": "sync_scene", "scene_id": -4}, "scene_id must be a positive whole number"),
    ({"mode": "ui", "op": "sync_scene", "scene_id": True}, "scene_id must be a positive whole number"),
    ({"mode": "ui", "op": "scene"}, "scene_id must be a positive whole number"),
])
def test_bad_requests_get_a_clear_graphql_error(stash_with_plugin, args, expected):
    answer = operation(stash_with_plugin, args)
    assert answer["data"]["runPluginOperation"] is None
    assert expected in answer["errors"][0]["message"]


def test_answers_carry_no_secret_and_sync_now_only_queues(stash_with_plugin):
    host = stash_with_plugin.plugin_host
    queued = operation(stash_with_plugin, {"mode": "ui", "op": "sync_scene", "scene_id": "1"})["data"]
    assert queued["runPluginOperation"]["queued"] == 1
    answers = [queued] + [operation(stash_with_plugin, {"mode": "ui", "op": op, "scene_id": 1})["data"]
                          for op in ("overview", "scene", "last_preview", "retry_failed")]
    text = json.dumps(answers)
    assert lib.PLEX_TOKEN not in text and stash_with_plugin.session_cookie not in text
    assert answers[2]["runPluginOperation"]["state"] in ("pending", "syncing", "synced")
    assert host.jobs == {}  # nothing went through Stash's job queue: operations never run a task


def test_every_graphql_document_the_page_sends_is_valid_against_stash():
    if not (SCHEMA_DIR / "schema.graphql").exists():
        pytest.skip(f"Stash's schema is not at {SCHEMA_DIR}")
    parts = [(SCHEMA_DIR / "schema.graphql").read_text(encoding="utf-8")]
    parts += [path.read_text(encoding="utf-8") for path in sorted((SCHEMA_DIR / "types").glob("*.graphql"))]
    schema = build_schema("\n".join(parts))
    script = "\n".join(path.read_text(encoding="utf-8") for path in UI_SCRIPTS)
    documents = re.findall(r'"((?:query|mutation) PlexSync[^"]*)"', script)
    assert len(documents) == 5
    for document in documents:
        assert validate(schema, parse(document)) == [], document


def test_the_page_talks_only_to_stash_itself():
    """Stash's default CSP allows connect-src 'self' only: no absolute URL, no external script."""
    script = "\n".join(path.read_text(encoding="utf-8") for path in UI_SCRIPTS)
    assert not re.search(r"https?://", script)
    assert "eval(" not in script and "new Function" not in script


def test_the_scripts_stash_loads_are_the_ones_tested():
    import yaml

    manifest = yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))
    assert [REPO / path for path in manifest["ui"]["javascript"]] == list(UI_SCRIPTS)
