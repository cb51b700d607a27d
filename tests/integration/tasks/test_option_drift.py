"""Reconcile sees a Plex-side change to the sort title and content rating PlexSync wrote (issue 14 options),
and nothing when they are untouched or were never written."""

from __future__ import annotations


def test_reconcile_rewrites_a_sort_title_and_content_rating_changed_in_plex(world):
    world.settings(with_extras="sort titles", scene_content_rating="XXX")
    scene_id, key = world.scene("dated.mp4", title="2024-03-02 Harbour Lights")
    world.queue(scene_id)
    world.run("process_queue")
    world.plex.reset_requests()
    assert world.run("reconcile")["plex_drift"] == 0 and world.plex.writes() == 0

    world.plex.set_field(key, "titleSort", "Zzz")
    world.plex.set_field(key, "contentRating", "G")
    out = world.run("reconcile")
    assert out["plex_drift"] == 1
    item = world.plex.item(key)
    assert item.fields["titleSort"] == "Harbour Lights 2024-03-02" and item.fields["contentRating"] == "XXX"


def test_fields_never_written_are_not_drift(world):
    scene_id, key = world.scene("plain.mp4", title="Plain")
    world.queue(scene_id)
    world.run("process_queue")
    world.plex.set_field(key, "contentRating", "G")
    world.plex.set_field(key, "titleSort", "Mine")
    assert world.run("reconcile")["plex_drift"] == 0
    assert world.plex.item(key).fields["contentRating"] == "G"
