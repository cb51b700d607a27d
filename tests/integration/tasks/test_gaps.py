"""The gap report (issue 21), in process: a library with scenes missing on each side, each for its own reason."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib
from sync_queue.mirror.gaps import KV_LAST_GAPS
from sync_queue.store import Store
from worker.tasks.gap_words import gap_csv, gap_lines


@pytest.fixture()
def library(world):
    """Two scenes in both; Stash-only scenes for each reason; Plex-only items; one scene not synced yet whose
    file Plex has (no gap: the next sync links it)."""
    both = [world.scene(f"both-{n}.mp4", size=10 + n, title=f"Both {n}") for n in range(2)]
    plex_only = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/plex-only/{name}.mp4", size=5,
                                     title=title) for name, title in (("a", "Only In Plex"), ("b", "Ünïcode ★"))]
    missing, _ = world.scene("missing.mp4", size=20, title="Missing", plex=False)
    outside = world.stash.add_scene(title="Elsewhere", files=[{"path": "/other/disk/x.mp4", "size": 30}])
    twins = [world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/{folder}/twin.mp4", size=40, title="Twin")
             for folder in ("one", "two")]
    ambiguous = world.stash.add_scene(title="Twin", files=[{"path": "/stash-only-disk/twin.mp4", "size": 40}])
    no_file = world.stash.add_scene(title="No File", files=[])
    world.settings(skip_not_found=True)  # "missing" is skipped as not in Plex ...
    assert world.run("sync_all")["processed"] >= 5
    world.settings()
    waiting, _ = world.scene("late.mp4", size=50, title="Late", plex=False)  # ... "late" waits for Plex to list it
    world.queue(waiting)
    world.run("process_queue")  # not listed by Plex: the slow lane
    unsynced, _ = world.scene("unsynced.mp4", size=60, title="Not synced yet")
    never, _ = world.scene("never.mp4", size=70, title="Never seen", plex=False)
    return {"both": both, "plex_only": plex_only, "twins": twins, "missing": missing, "outside": outside,
            "ambiguous": ambiguous, "no_file": no_file, "waiting": waiting, "unsynced": unsynced, "never": never}


def test_each_side_lists_what_the_other_lacks_with_its_reason(world, library):
    world.plex.reset_requests()
    report = world.run("gaps")
    reasons = {str(item["scene_id"]): item["reason_code"] for item in report["stash_only"]}
    assert reasons == {library["missing"]: "not_found", library["outside"]: "outside_libraries",
                       library["ambiguous"]: "ambiguous", library["no_file"]: "no_file",
                       library["waiting"]: "waiting_for_plex", library["never"]: "not_found"}
    by_id = {str(item["scene_id"]): item for item in report["stash_only"]}
    assert by_id[library["never"]]["reason"].endswith("(PlexSync has not synced this scene yet)")
    assert by_id[library["missing"]]["plex_path"] == f"{lib.PLEX_ROOT}/missing.mp4"
    assert "2 Plex items could be this scene" in by_id[library["ambiguous"]]["reason"]
    plex_only = {item["rating_key"]: (item["title"], item["file"], item["library"]) for item in report["plex_only"]}
    assert plex_only == {
        library["plex_only"][0]: ("Only In Plex", f"{lib.PLEX_ROOT}/plex-only/a.mp4", "Stash"),
        library["plex_only"][1]: ("Ünïcode ★", f"{lib.PLEX_ROOT}/plex-only/b.mp4", "Stash"),
        library["twins"][0]: ("Twin", f"{lib.PLEX_ROOT}/one/twin.mp4", "Stash"),
        library["twins"][1]: ("Twin", f"{lib.PLEX_ROOT}/two/twin.mp4", "Stash"),
    }
    assert (report["plex_only_count"], report["stash_only_count"]) == (4, 6)
    assert report["message"].startswith("Gaps: 4 Plex items no Stash scene has, 6 Stash scenes with no Plex item (")
    # From the index and the store: a listing refresh and one batched title read, nothing per scene or item.
    item_reads = [r for r in world.plex.requests if r.path.startswith("/library/metadata/")]
    assert len(item_reads) == 1 and world.plex.writes() == 0


def test_titles_are_read_once_and_the_report_is_kept_for_the_page(world, library):
    world.run("gaps")
    world.plex.reset_requests()
    again = world.run("gaps")
    assert not [r for r in world.plex.requests if r.path.startswith("/library/metadata/")]  # titles cached
    assert {item["title"] for item in again["plex_only"]} == {"Only In Plex", "Ünïcode ★", "Twin"}
    with Store(world.data_dir) as store:
        kept = store.get_json(KV_LAST_GAPS, None)
    assert kept["stash_only_count"] == 6 and len(kept["plex_only"]) == 4


def test_a_retitled_item_is_read_again(world, library):
    world.run("gaps")
    key = library["plex_only"][0]
    world.plex.set_field(key, "title", "Renamed")
    titles = {item["rating_key"]: item["title"] for item in world.run("gaps")["plex_only"]}
    assert titles[key] == "Renamed"


def test_words_and_csv_name_every_gap(world, library):
    report = world.run("gaps")
    lines = gap_lines(report, named=2)
    assert lines[0].startswith("Gaps: 4 Plex items") and "looked at 9 Stash scenes and 7 Plex items in Stash" in lines[0]
    assert sum(line.startswith("Only in Plex: Plex item") for line in lines) == 2
    assert "Only in Stash: … and 4 more" in "\n".join(lines)
    rows = gap_csv(report).splitlines()
    assert rows[0] == "side,scene_id,rating_key,library,title,file,plex_path,reason_code,reason"
    assert len(rows) == 1 + 4 + 6 and sum(row.startswith("stash_only,") for row in rows) == 6


def test_nothing_missing_is_an_empty_report(world):
    for n in range(3):
        world.scene(f"ok-{n}.mp4", size=n + 1)
    world.run("sync_all")
    report = world.run("gaps")
    assert (report["plex_only"], report["stash_only"]) == ([], [])
    assert report["message"] == "Gaps: 0 Plex items no Stash scene has, 0 Stash scenes with no Plex item"
