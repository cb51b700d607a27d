"""The Preview Sync task as Stash runs it: its answer reaches Stash's log at Info, and nothing is written."""

from __future__ import annotations

from emulators import demo_library as lib


def test_preview_task_shows_each_scene_and_the_total_at_info(harness):
    key = harness.plex.add_item(harness.plex.add_section("Stash", [lib.PLEX_ROOT]), file=f"{lib.PLEX_ROOT}/l.mp4",
                                size=5, title="l.mp4")
    harness.stash.add_scene(title="Logged", files=[{"path": f"{lib.STASH_ROOT}/l.mp4", "size": 5}])

    result = harness.task("Preview Sync (no changes)")

    assert result.error is None, result.error
    infos = [text for level, text in result.logs if level == "info"]
    assert any(f"→ Plex item {key} (path): title 'l.mp4' → 'Logged'" in line for line in infos), infos
    assert any(line.startswith("Preview (nothing was written): 1 of 1 scenes would change") for line in infos)
    assert harness.plex.writes() == 0
