"""Plex requests per scene, counted (never timed) over a whole Sync All of several scenes in several batches.

Budgets (issues 10 and 18): a new scene with poster and background costs 3 requests — the poster POST, the
background POST and one PUT — plus its share of one detail GET per batch (``GET /library/metadata/1,2,…``: a first
push diffs against Plex's detail view, read for the whole batch at once). An unchanged scene costs 0, a scene with
one field edited in Stash costs 1 (a PUT of that field) plus its share of the same batched GET: no write goes out
unless a read of the item in the same batch shows the scene's file there (the write-safety rule), 2 GETs for 53
scenes, 0.04 a scene here and 0.02 in full batches of 50. The listing and the start-up probes are per run.
"""

from __future__ import annotations

from collections import Counter

import pytest

from emulators import demo_library as lib
from tests.e2e.sync.test_pipeline_e2e import sync_all

pytestmark = pytest.mark.e2e

SCENES = 53  # more than one batch of 50: a batch boundary costs no request
NEW_SCENE_REQUESTS = 3  # poster POST + background POST + PUT; the detail GET is one per batch
PER_RUN_PATHS = {"/", "/identity", "/library/sections"}  # probes, once per run whatever the library's size
PER_RUN_MAX = 6  # those, plus the library listing's pages
BATCHED_READS = 2  # 53 scenes: a batch of 50 and one of 3


def item_of(request, keys: set[int]) -> int | None:
    """The Plex item a request is about: /library/metadata/<key>[/…] or a section edit's ``id=<key>``."""
    if request.path.startswith("/library/metadata/") and "," in request.path.split("/")[3]:
        return None  # a batch's detail read: per run, counted below
    if request.path.startswith("/library/metadata/"):
        key = int(request.path.split("/")[3])
        return key if key in keys else None
    edited = request.param("id")
    return int(edited) if edited and request.method == "PUT" and int(edited) in keys else None


def per_scene_and_per_run(plex, keys: set[int]) -> tuple[dict[int, list[tuple[str, str]]], list[tuple[str, str]]]:
    per_item: dict[int, list[tuple[str, str]]] = {key: [] for key in keys}
    per_run = []
    for request in plex.requests:
        key = item_of(request, keys)
        shape = (request.method, request.path.replace(str(key), "<key>") if key else request.path)
        (per_item[key] if key else per_run).append(shape)
    return per_item, per_run


def batched_reads(per_run: list[tuple[str, str]]) -> list[str]:
    """The batches' detail reads: one GET per batch, naming every scene's item once."""
    batched = [path for method, path in per_run if method == "GET" and path.startswith("/library/metadata/")]
    assert len(batched) == BATCHED_READS and sum(len(path.split("/")[3].split(",")) for path in batched) == SCENES
    return batched


@pytest.fixture()
def counted(harness):
    """Scenes, each with a cover (poster and background), and their Plex items."""
    section = harness.plex.add_section(title="Counted", locations=[lib.PLEX_ROOT], type="movie")
    scene_ids, keys = [], set()
    for n in range(SCENES):
        keys.add(harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/c/{n}.mp4", size=100 + n, title=f"c{n}"))
        scene_ids.append(harness.stash.add_scene(
            title=f"Scene {n}", details="d", date="2024-01-02", rating100=60,
            files=[{"path": f"{lib.STASH_ROOT}/c/{n}.mp4", "size": 100 + n}], screenshot=lib.tiny_png(n)))
    return scene_ids, keys, f"/library/sections/{section}/all"


def test_new_unchanged_and_one_field_edited_scenes_stay_within_their_request_budget(harness, counted):
    scene_ids, keys, section_edit = counted
    output = sync_all(harness)
    assert output["succeeded"] == SCENES
    per_item, per_run = per_scene_and_per_run(harness.plex, keys)
    for key, shapes in per_item.items():
        assert Counter(shapes) == Counter([("POST", "/library/metadata/<key>/posters"),
                                           ("POST", "/library/metadata/<key>/arts"),
                                           ("PUT", section_edit)]), key
        assert len(shapes) == NEW_SCENE_REQUESTS
    batched = batched_reads(per_run)
    rest = [(method, path) for method, path in per_run if path not in batched]
    assert {path for _, path in rest} - PER_RUN_PATHS <= {section_edit}  # the listing
    assert len(rest) <= PER_RUN_MAX

    harness.plex.reset_requests()
    for scene_id in scene_ids:
        harness.stash.update_scene(scene_id, title=f"Edited {scene_id}")
    output = sync_all(harness)
    assert output["succeeded"] == SCENES
    per_item, per_run = per_scene_and_per_run(harness.plex, keys)
    for key, shapes in per_item.items():
        assert shapes == [("PUT", section_edit)], key
    batched = batched_reads(per_run)  # the reads every write is checked against
    assert len([path for _, path in per_run if path not in batched]) <= PER_RUN_MAX
    edits = [request for request in harness.plex.requests if request.method == "PUT"]
    assert all({name for name, _ in request.query} == {"type", "id", "title.value", "title.locked"}
               for request in edits)
    assert harness.plex.writes() == SCENES

    harness.plex.reset_requests()
    output = sync_all(harness)
    per_item, per_run = per_scene_and_per_run(harness.plex, keys)
    assert all(shapes == [] for shapes in per_item.values())
    assert harness.plex.writes() == 0 and len(per_run) <= PER_RUN_MAX
