"""Ratings from Plex into Stash (issue 21), in process: the real plexapi client rates items in the Plex emulator,
the import runs as the task does, and every assertion reads what Stash or Plex now show."""

from __future__ import annotations

import json

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib
from sync_queue.ledgers.ratings import RatingLedger
from sync_queue.store import Store
from validation.metadata import build_metadata
from worker.viewing.ratings import plex_rating, stash_rating


def rate_in_plex(world, rating_key: int, rating: float | None, at: int | None = None) -> None:
    """The owner rates the item in a Plex app (plexapi's ``rate``: ``PUT /:/rate``); ``at``: Plex's clock then.
    ``world``: anything with the two emulators as ``plex`` and ``stash`` (the e2e harness too)."""
    if at is not None:
        world.plex.library.clock = lambda: at
    PlexServer(world.plex.url, lib.PLEX_TOKEN).fetchItem(rating_key).rate(rating)


def stash_rating100(world, scene_id):
    return world.stash.scene(scene_id)["rating100"]


def plex_user_rating(world, rating_key):
    value = world.plex.item(rating_key).fields.get("userRating")
    return None if value is None else float(value)


def rating_writes_to_stash(world) -> int:
    return sum(1 for name, _, _ in world.stash.queries if name == "PlexSyncSetRating")


def rating_puts(world) -> list:
    return [r for r in world.plex.requests if r.method == "PUT" and any(k.startswith("userRating") for k, _ in r.query)]


def pushed_rating(world, scene_id):
    return json.loads(world.state(scene_id)["push_record"])["snapshot"]["userRating"]


def import_killed_after_stash_took_it(world, monkeypatch, rating_key: int) -> None:
    """The item is rated 9 in Plex; the import puts 90 into Stash and dies before the ledger records it."""
    rate_in_plex(world, rating_key, 9.0)
    original = RatingLedger.settle

    def die_after_stash(self, settled):
        settled = list(settled)
        if settled:
            raise KeyboardInterrupt("killed before the rating was settled")
        return original(self, settled)

    monkeypatch.setattr(RatingLedger, "settle", die_after_stash)
    with pytest.raises(KeyboardInterrupt):
        world.run("import_plays")
    monkeypatch.undo()


@pytest.fixture()
def linked(world):
    """Three scenes rated 50, unrated and 70 in Stash, synced (so Plex shows those ratings and the store links
    them), with ratings_from_plex on."""
    pairs = [world.scene(f"r-{n}.mp4", size=300 + n, title=f"R {n}", rating100=value)
             for n, value in enumerate((50, None, 70))]
    assert world.run("sync_all")["succeeded"] == 3
    world.settings(ratings_from_plex=True)
    world.plex.reset_requests()
    world.stash.reset_queries()
    return pairs


def test_every_stash_rating_survives_the_round_trip_through_plex():
    """The import inverts exactly what the push writes, for every rating Stash can hold."""
    class Config:
        enabled_fields = frozenset({"userRating"})
        stash_url_for_plex = title_from_filename = group_collections = False
        content_rating = content_rating_tags = collection_tags = ""
        max_tags = 100

    for rating100 in range(0, 101):
        pushed = build_metadata({"id": "1", "rating100": rating100}, Config()).plex_fields()["userRating"]
        assert pushed == plex_rating(rating100) and stash_rating(pushed) == rating100
    assert stash_rating(None) is None and plex_rating(None) is None
    assert stash_rating(7.25) == 73 and stash_rating(0.04) == 0 and stash_rating(10.0) == 100


def test_a_rating_set_in_plex_reaches_stash_once_and_is_not_pushed_back(world, linked):
    (s0, k0), (s1, k1), _ = linked
    rate_in_plex(world, k0, 8.0)
    rate_in_plex(world, k1, 3.5)  # an unrated scene gets Plex's rating
    world.plex.reset_requests()
    result = world.run("import_plays")
    listings = [r for r in world.plex.requests if r.path.startswith("/library/sections/") and r.path.endswith("/all")]
    assert len(listings) == 1  # the one listing the resume points need carries the ratings too ...
    # ... nothing per item: one detail read of the two items whose rating is written (the write-safety rule)
    assert [r.path for r in world.plex.requests if r.path.startswith("/library/metadata/")] == \
        [f"/library/metadata/{min(k0, k1)},{max(k0, k1)}"]
    assert result["ratings"]["imported"] == 2
    assert "; 2 ratings" in result["message"]
    assert (stash_rating100(world, s0), stash_rating100(world, s1)) == (80, 35)
    assert pushed_rating(world, s0) == 8.0  # the push record agrees: nothing left to push
    assert world.run("import_plays")["ratings"]["imported"] == 0  # and nothing new comes the second time
    assert rating_writes_to_stash(world) == 2

    world.queue(s0, s1)  # Stash runs the update hook for our own write: the scenes are synced again
    world.run("process_queue")
    assert rating_puts(world) == []
    assert (plex_user_rating(world, k0), plex_user_rating(world, k1)) == (8.0, 3.5)


def test_a_rating_changed_in_stash_afterwards_goes_to_plex_and_does_not_come_back(world, linked):
    (s0, k0), _, _ = linked
    rate_in_plex(world, k0, 8.0)
    world.run("import_plays")
    world.stash.update_scene(s0, rating100=40)
    world.queue(s0)  # the hook of the user's save
    world.run("process_queue")
    assert plex_user_rating(world, k0) == 4.0
    assert world.run("import_plays")["ratings"] == {"imported": 0, "cleared": 0, "kept_stash": 0, "agreed": 0,
                                                    "recovered": 0, "decisions": []}
    assert stash_rating100(world, s0) == 40


def test_a_rating_cleared_in_plex_clears_the_scene_rating(world, linked):
    (s0, k0), _, _ = linked
    rate_in_plex(world, k0, None)
    result = world.run("import_plays")
    assert (result["ratings"]["imported"], result["ratings"]["cleared"]) == (1, 1)
    assert stash_rating100(world, s0) is None
    assert pushed_rating(world, s0) is None
    world.queue(s0)
    world.run("process_queue")
    assert rating_puts(world) == [] and plex_user_rating(world, k0) is None


def test_when_both_changed_the_newer_rating_wins_and_the_choice_is_logged(world, linked, capfd):
    (s0, k0), _, (s2, k2) = linked
    world.stash.update_scene(s0, rating100=90)  # edited in Stash, not pushed yet (its hook is still queued)
    world.stash.update_scene(s2, rating100=10)
    edited = world.stash.scene(s2)["updated_at"]
    from worker.viewing.stash_calls import epoch_of

    rate_in_plex(world, k0, 2.0, at=epoch_of(edited) - 3600)  # rated in Plex an hour before the Stash edit
    rate_in_plex(world, k2, 6.0, at=epoch_of(edited) + 3600)  # rated an hour after it
    capfd.readouterr()
    result = world.run("import_plays")
    logged = capfd.readouterr().err
    assert (result["ratings"]["imported"], result["ratings"]["kept_stash"]) == (1, 1)
    assert stash_rating100(world, s2) == 60  # Plex's newer rating
    assert stash_rating100(world, s0) == 90  # Stash's newer rating stays ...
    world.run("process_queue")
    assert plex_user_rating(world, k0) == 9.0  # ... and reaches Plex
    assert plex_user_rating(world, k2) == 6.0
    assert f"Scene {s0}: the rating changed in Stash (90/100" in logged and "Stash's is newer" in logged
    assert f"Scene {s2}: the rating changed in Stash (10/100" in logged and "Plex's is newer" in logged
    again = world.run("import_plays")["ratings"]
    assert (again["imported"], again["kept_stash"]) == (0, 0)


def test_a_crash_after_stash_took_the_rating_does_not_write_it_again(world, linked, monkeypatch):
    (s0, k0), _, _ = linked
    import_killed_after_stash_took_it(world, monkeypatch, k0)
    assert stash_rating100(world, s0) == 90 and rating_writes_to_stash(world) == 1
    with Store(world.data_dir) as store:
        assert RatingLedger(store).counts()["open"] == 1
    result = world.run("import_plays")["ratings"]
    assert (result["recovered"], result["imported"]) == (1, 0)
    assert rating_writes_to_stash(world) == 1
    assert pushed_rating(world, s0) == 9.0


def test_after_a_crash_a_rating_reverted_in_plex_still_reaches_stash(world, linked, monkeypatch):
    """Plex 5 → 9, the import puts 90 into Stash and dies before recording it; then Plex goes back to 5. Plex moved
    last, so Stash must end at 50, not keep the 90 nobody records."""
    (s0, k0), _, _ = linked
    import_killed_after_stash_took_it(world, monkeypatch, k0)
    assert stash_rating100(world, s0) == 90
    rate_in_plex(world, k0, 5.0)
    result = world.run("import_plays")["ratings"]
    assert (result["recovered"], result["imported"]) == (1, 1)
    assert stash_rating100(world, s0) == 50


def test_a_crash_before_stash_was_asked_writes_the_rating_on_the_next_run(world, linked, monkeypatch):
    (s0, k0), _, _ = linked
    rate_in_plex(world, k0, 9.0)
    monkeypatch.setattr("worker.viewing.ratings.set_rating", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt("killed")))
    with pytest.raises(KeyboardInterrupt):
        world.run("import_plays")
    monkeypatch.undo()
    assert stash_rating100(world, s0) == 50
    assert world.run("import_plays")["ratings"]["imported"] == 1
    assert stash_rating100(world, s0) == 90 and rating_writes_to_stash(world) == 1


def test_the_preview_shows_what_an_import_would_change_and_writes_nothing(world, linked):
    (s0, k0), _, _ = linked
    rate_in_plex(world, k0, 7.5)
    preview = world.run("import_plays", dry_run="true")
    assert preview["dry_run"] is True
    assert [(r["scene_id"], r["action"], r["stash_before"], r["stash_after"]) for r in preview["ratings"]] == \
        [(int(s0), "import", 50, 75)]
    assert "1 rating" in preview["message"]
    assert stash_rating100(world, s0) == 50 and rating_writes_to_stash(world) == 0


def test_without_the_switch_ratings_stay_in_plex(world, linked):
    (s0, k0), _, _ = linked
    world.settings()
    rate_in_plex(world, k0, 8.0)
    assert "ratings" not in world.run("import_plays")
    assert stash_rating100(world, s0) == 50


def test_with_ratings_not_written_to_plex_the_ledger_is_the_baseline(world, linked):
    """skip_rating: the push record holds no rating, so what was last read from Plex decides what changed."""
    (s0, k0), _, _ = linked
    world.settings(ratings_from_plex=True, skip_rating=True)
    world.stash.update_scene(s0, rating100=None)
    world.queue(s0)
    world.run("process_queue")
    rate_in_plex(world, k0, 6.0)
    assert world.run("import_plays")["ratings"]["imported"] == 1
    assert stash_rating100(world, s0) == 60
    world.stash.update_scene(s0, rating100=20)  # a Stash-only change stays in Stash: ratings are not written
    assert world.run("import_plays")["ratings"]["imported"] == 0
    assert stash_rating100(world, s0) == 20 and plex_user_rating(world, k0) == 6.0


def test_a_first_sync_keeps_a_plex_rating_the_scene_lacks_and_the_import_brings_it(world):
    """Rated in Plex before PlexSync ever synced the item, unrated in Stash: with ratings_from_plex the first push
    leaves Plex's rating alone, and the import makes it the scene's. Without the switch Stash's "none" wins."""
    kept, kept_key = world.scene("rated-in-plex.mp4", size=901, title="Kept")
    cleared, cleared_key = world.scene("cleared.mp4", size=902, title="Cleared")
    world.plex.set_field(kept_key, "userRating", "8.0")
    world.plex.set_field(cleared_key, "userRating", "6.0")
    world.settings(ratings_from_plex=True)
    world.queue(kept)
    world.run("process_queue")
    world.settings()
    world.queue(cleared)
    world.run("process_queue")
    assert plex_user_rating(world, kept_key) == 8.0 and plex_user_rating(world, cleared_key) is None
    world.settings(ratings_from_plex=True)
    assert world.run("import_plays")["ratings"]["imported"] == 1
    assert stash_rating100(world, kept) == 80 and stash_rating100(world, cleared) is None


def test_the_worker_period_brings_ratings_alone_when_only_ratings_are_on(world, linked):
    """ratings_from_plex without import_plex_plays: the background worker's period imports the ratings, and
    neither reads nor imports plays."""
    from worker.viewing.plays import import_plays_if_due

    (s0, k0), _, _ = linked
    rate_in_plex(world, k0, 6.0)
    world.plex.watch.play(k0, viewed_stamp=1_760_000_000)
    world.plex.reset_requests()
    rt = world.runtime()
    try:
        import_plays_if_due(rt)
    finally:
        rt.close()
    assert stash_rating100(world, s0) == 60
    assert world.stash.plays.of(s0).plays == []
    assert not [r for r in world.plex.requests if r.path.startswith("/status/sessions/history")]
