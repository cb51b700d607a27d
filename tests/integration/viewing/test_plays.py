"""Plays from Plex into Stash (issue 14), in process: the real plexapi and stashapi clients against the emulators.

Scenes are linked by a real sync first; plays are then recorded in the Plex emulator and read back from the Stash
emulator through stashapi, so every assertion is about what a user would see in Stash.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from emulators import demo_library as lib
from plex.matcher import path_key
from sync_queue.ledgers.plays import PlayLedger
from sync_queue.store import Store
from worker.viewing import stash_calls as play_stash
from worker.viewing.plays import PlaysBusy, import_plays

T0 = 1_760_000_000  # a fixed instant (2025-10-09) for play times



def stash_plays(world, scene_id) -> dict:
    """The scene as stashapi reads it from the Stash emulator."""
    from stashapi.stashapp import StashInterface

    conn = world.stash.server_connection("/tmp", "/tmp")
    client = StashInterface({"Scheme": "http", "Host": "127.0.0.1", "Port": conn["Port"]})
    scene = client.call_GQL("query($id: ID) { findScene(id: $id) { play_count play_history resume_time } }",
                            {"id": str(scene_id)})["findScene"]
    scene["times"] = Counter(play_stash.epoch_of(text) for text in scene["play_history"])
    return scene


@pytest.fixture()
def linked(world):
    """Three scenes synced to Plex (so the store links each to its item) and one scene Plex lacks."""
    pairs = [world.scene(f"play-{n}.mp4", size=100 + n, title=f"Play {n}") for n in range(3)]
    world.scene("not-in-plex.mp4", size=7, plex=False)
    result = world.run("sync_all")
    assert result["succeeded"] == 3, result
    return pairs


def test_each_play_is_imported_once_at_its_time_across_repeated_runs(world, linked):
    (s0, k0), (s1, k1), _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.plex.watch.play(k0, viewed_stamp=T0 + 3600)
    world.plex.watch.play(k1, viewed_stamp=T0 + 60)

    first = world.run("import_plays")
    assert (first["imported"], first["scenes"]) == (3, 2)
    assert first["message"] == "Imported 3 plays for 2 scenes from Plex; 0 resume points"
    for _ in range(2):
        again = world.run("import_plays")
        assert again["imported"] == 0 and again["already_in_stash"] == 0
    assert stash_plays(world, s0)["times"] == Counter({T0: 1, T0 + 3600: 1})
    assert stash_plays(world, s1)["play_count"] == 1

    world.plex.watch.play(k1, viewed_stamp=T0 + 7200)  # a new play: only it is added
    assert world.run("import_plays")["imported"] == 1
    assert stash_plays(world, s1)["times"] == Counter({T0 + 60: 1, T0 + 7200: 1})


def test_incremental_reads_start_at_the_watermark_minus_the_overlap(world, linked):
    (s0, k0), _, _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.run("import_plays")
    world.plex.reset_requests()
    world.run("import_plays")
    reads = [r for r in world.plex.requests if r.path == "/status/sessions/history/all"]
    assert reads and all(r.param("viewedAt>") == str(T0 - 6 * 3600) for r in reads)
    assert all(r.param("accountID") == "1" for r in reads)


def test_a_play_of_an_item_linked_later_is_imported(world, linked):
    (s0, k0), _, _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0 + 90_000)
    world.run("import_plays")  # watermark now T0 + 90000
    late_scene, late_key = world.scene("late.mp4", size=555, title="Late")
    world.plex.watch.play(late_key, viewed_stamp=T0)  # long before the watermark
    world.run("sync_all")
    assert world.run("import_plays")["imported"] == 1
    assert stash_plays(world, late_scene)["times"] == Counter({T0: 1})


def test_only_the_picked_accounts_plays_are_imported(world, linked):
    (s0, k0), _, _ = linked
    alice = world.plex.watch.add_account("Alice")
    bob = world.plex.watch.add_account("bob")
    world.plex.watch.play(k0, viewed_stamp=T0, account_id=1)
    world.plex.watch.play(k0, viewed_stamp=T0 + 1, account_id=alice)
    world.plex.watch.play(k0, viewed_stamp=T0 + 2, account_id=bob)

    assert world.run("import_plays")["imported"] == 1  # default: the owner
    world.settings(watch_history_accounts="alice, Bob")
    assert world.run("import_plays")["imported"] == 2
    assert stash_plays(world, s0)["times"] == Counter({T0: 1, T0 + 1: 1, T0 + 2: 1})


def test_an_unknown_account_name_is_a_clear_error_naming_the_known_ones(world, linked):
    world.plex.watch.add_account("alice")
    world.settings(watch_history_accounts="carol")
    with pytest.raises(Exception, match=r"no Plex account named carol; accounts on this server: owner, alice"):
        world.run("import_plays")


def test_same_play_twice_in_plex_for_two_accounts_at_one_second_gives_two_plays(world, linked):
    (s0, k0), _, _ = linked
    alice = world.plex.watch.add_account("alice")
    world.settings(watch_history_accounts="owner,alice")
    world.plex.watch.play(k0, viewed_stamp=T0, account_id=1)
    world.plex.watch.play(k0, viewed_stamp=T0, account_id=alice)
    assert world.run("import_plays")["imported"] == 2
    assert world.run("import_plays")["imported"] == 0
    assert stash_plays(world, s0)["times"] == Counter({T0: 2})


def test_resume_point_is_set_and_only_rewritten_when_it_changes(world, linked):
    (s0, k0), (s1, k1), _ = linked
    world.plex.watch.set_offset(k0, 754_000)
    first = world.run("import_plays")
    assert first["resume_points"] == 1
    assert stash_plays(world, s0)["resume_time"] == pytest.approx(754.0)
    assert stash_plays(world, s1)["resume_time"] == 0

    world.stash.reset_queries()
    assert world.run("import_plays")["resume_points"] == 0
    assert not [q for q in world.stash.queries if q[0] == "PlexSyncSaveResume"]

    world.plex.watch.play(k0, viewed_stamp=T0)  # finished in Plex: no resume point any more
    result = world.run("import_plays")
    assert (result["imported"], result["resume_points"]) == (1, 1)
    assert stash_plays(world, s0)["resume_time"] == 0


def crash_once_in(world, monkeypatch, method: str) -> None:
    """One import run that dies where ``PlayLedger.<method>`` would commit (as a kill at that instant would)."""
    def die(*_args, **_kwargs):
        raise KeyboardInterrupt(f"killed before PlayLedger.{method} committed")

    monkeypatch.setattr(PlayLedger, method, die)
    with pytest.raises(KeyboardInterrupt):
        world.run("import_plays")
    monkeypatch.undo()


def test_a_crash_after_stash_took_the_plays_does_not_add_them_again(world, linked, monkeypatch):
    """The intent is written, Stash accepts the plays, the process dies before marking them done."""
    (s0, k0), _, _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.plex.watch.play(k0, viewed_stamp=T0 + 5)
    crash_once_in(world, monkeypatch, "settle")  # between Stash's mutation and our commit
    assert stash_plays(world, s0)["play_count"] == 2  # Stash took them
    result = world.run("import_plays")
    assert (result["imported"], result["already_in_stash"]) == (0, 2)
    assert stash_plays(world, s0)["times"] == Counter({T0: 1, T0 + 5: 1})


def test_a_scene_deleted_in_stash_drops_its_plays_without_failing(world, linked):
    (s0, k0), (s1, k1), _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.plex.watch.play(k1, viewed_stamp=T0)
    world.stash.delete_scene(s0)
    assert world.run("import_plays")["imported"] == 1
    with Store(world.data_dir) as store:
        assert PlayLedger(store).counts() == {"intent": 0, "done": 1, "gone": 1}


def test_a_second_importer_waits_its_turn(world, linked):
    rt = world.runtime()
    try:
        PlayLedger(rt.store).acquire(pid=__import__("os").getpid())
        with pytest.raises(PlaysBusy):
            import_plays(rt)
    finally:
        rt.close()
    assert "skipped" in world.run("import_plays")


def test_timestamps_sent_to_stash_are_rfc3339_utc():
    assert play_stash.timestamp_text(T0) == datetime.fromtimestamp(T0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert play_stash.epoch_of("2025-10-09T10:53:20+02:00") == play_stash.epoch_of("2025-10-09T08:53:20Z")


# -- Stash plays to Plex (scrobble_stash_plays) -------------------------------------------------------

def add_stash_play(world, scene_id, epoch: int) -> None:
    """A play recorded in Stash (its player), through stashapi."""
    from stashapi.stashapp import StashInterface

    client = StashInterface({"Scheme": "http", "Host": "127.0.0.1", "Port": world.stash.port})
    client.call_GQL("mutation($id: ID!, $t: [Timestamp!]) { sceneAddPlay(id: $id, times: $t) { count } }",
                    {"id": str(scene_id), "t": [play_stash.timestamp_text(epoch)]})


def scrobbles(world) -> int:
    return sum(1 for r in world.plex.requests if r.path == "/:/scrobble")


def test_a_stash_play_marks_the_plex_item_watched_once_and_never_comes_back(world, linked):
    (s0, k0), _, _ = linked
    world.settings(scrobble_stash_plays=True)
    assert world.run("import_plays")["sent_to_plex"] == 0  # the first look only notes "from now on"
    add_stash_play(world, s0, int(time.time()) + 5)
    world.plex.reset_requests()
    assert world.run("import_plays")["sent_to_plex"] == 1
    item = world.plex.item(k0).fields
    assert scrobbles(world) == 1 and item["viewCount"] == "1" and int(item["lastViewedAt"]) >= T0
    assert world.plex.watch.plays_of(k0) == []  # watched in Plex, and no history row (PMS 1.40+)
    for _ in range(2):
        again = world.run("import_plays")
        assert (again["imported"], again["sent_to_plex"]) == (0, 0)
    assert scrobbles(world) == 1
    assert stash_plays(world, s0)["play_count"] == 1


def test_plays_imported_from_plex_are_never_sent_back(world, linked):
    (s0, k0), _, _ = linked
    world.settings(scrobble_stash_plays=True)
    world.run("import_plays")
    world.plex.watch.play(k0, viewed_stamp=int(time.time()) + 5)
    world.plex.reset_requests()
    first = world.run("import_plays")
    assert (first["imported"], first["sent_to_plex"]) == (1, 0)
    assert world.run("import_plays")["sent_to_plex"] == 0
    assert scrobbles(world) == 0 and world.plex.item(k0).fields["viewCount"] == "1"


def test_stash_plays_stay_in_stash_by_default(world, linked):
    (s0, k0), _, _ = linked
    world.run("import_plays")
    add_stash_play(world, s0, int(time.time()) + 5)
    world.plex.reset_requests()
    assert world.run("import_plays")["sent_to_plex"] == 0
    assert scrobbles(world) == 0


def test_a_crash_after_plex_took_the_scrobble_does_not_send_it_again(world, linked, monkeypatch):
    (s0, k0), _, _ = linked
    world.settings(scrobble_stash_plays=True)
    world.run("import_plays")
    add_stash_play(world, s0, int(time.time()) + 5)
    crash_once_in(world, monkeypatch, "scrobble_done")  # after Plex took the scrobble
    for _ in range(2):
        world.run("import_plays")
    assert (scrobbles(world), world.plex.item(k0).fields["viewCount"]) == (1, "1")
    assert stash_plays(world, s0)["play_count"] == 1


def test_a_scrobble_left_open_is_settled_by_the_items_watch_state_whoever_is_imported(world, linked, monkeypatch):
    (s0, k0), _, _ = linked
    world.plex.watch.add_account("alice")
    world.settings(scrobble_stash_plays=True, watch_history_accounts="alice")  # the owner's history is not read
    world.run("import_plays")
    add_stash_play(world, s0, int(time.time()) + 5)
    crash_once_in(world, monkeypatch, "scrobble_done")
    world.run("import_plays")
    assert (scrobbles(world), world.plex.item(k0).fields["viewCount"]) == (1, "1")


def test_a_scrobble_plex_did_not_take_is_sent_on_the_next_run(world, linked):
    (s0, k0), _, _ = linked
    world.settings(scrobble_stash_plays=True)
    world.run("import_plays")
    add_stash_play(world, s0, int(time.time()) + 5)
    world.plex.fail(r"^/:/scrobble$", 503, times=None)
    with pytest.raises(Exception, match="503"):
        world.run("import_plays")
    world.plex.clear_faults()
    assert world.run("import_plays")["sent_to_plex"] == 1
    assert world.plex.item(k0).fields["viewCount"] == "1"
    assert world.run("import_plays")["sent_to_plex"] == 0


def test_nothing_from_an_item_that_holds_another_file_now_is_written_into_the_scene(world, linked, capsys):
    """The write-safety rule the other way: the file of scene 0's item was swapped for another one (an organiser
    moved another download onto its name) before the index saw it. Its play, resume point and rating belong to that
    other file: none reaches scene 0, whose link is forgotten so the next sync matches it again."""
    from tests.integration.viewing.test_ratings import rate_in_plex, stash_rating100

    (s0, k0), (s1, k1), _ = linked
    world.settings(ratings_from_plex=True)
    world.run("import_plays")  # the baseline
    world.plex.move_file(k0, f"{lib.PLEX_ROOT}/someone-else.mp4", size=999)
    world.plex.library.scan(world.section, None)
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.plex.watch.set_offset(k0, 120_000)
    rate_in_plex(world, k0, 9.0)
    world.plex.watch.play(k1, viewed_stamp=T0 + 60)  # scene 1's item still holds its file

    preview = world.run("import_plays", dry_run="true")  # the preview decides alike and changes no link
    assert (preview["play_scenes"], preview["resume_points"], preview["ratings"]) == ([int(s1)], [], [])
    assert world.state(s0)["rating_key"] == k0
    result = world.run("import_plays")
    assert (result["imported"], result["resume_points"], result["ratings"]["imported"]) == (1, 0, 0)
    assert stash_plays(world, s0)["play_count"] == 0 and stash_plays(world, s0)["resume_time"] == 0
    assert stash_rating100(world, s0) is None
    assert stash_plays(world, s1)["times"] == Counter([T0 + 60])
    assert world.state(s0)["rating_key"] is None and world.state(s1)["rating_key"] == k1
    assert f"Scene {s0}: Plex item {k0} no longer holds this scene's file" in capsys.readouterr().err
    with Store(world.data_dir) as store:  # the index took the item as the check read it
        assert [part.rating_key for part in store.parts_by_path_key(path_key(f"{lib.PLEX_ROOT}/someone-else.mp4"))] \
            == [k0]


def test_a_play_made_before_its_item_went_still_reaches_the_scene(world, linked, capsys):
    """An item deleted in Plex holds no one's file: its plays, made while it held the scene's, are imported. The
    batched read of both items answers 404 for the gone one, so each item is read alone and the other still counts."""
    (s0, k0), (s1, k1), _ = linked
    world.plex.watch.play(k0, viewed_stamp=T0)
    world.plex.watch.play(k1, viewed_stamp=T0 + 60)
    world.plex.library.remove_item(k0)

    assert world.run("import_plays")["imported"] == 2
    assert (stash_plays(world, s0)["times"], stash_plays(world, s1)["times"]) == (Counter([T0]), Counter([T0 + 60]))
    assert world.state(s0)["rating_key"] is None and world.state(s1)["rating_key"] == k1
    assert f"Scene {s0}: Plex item {k0} is gone" in capsys.readouterr().err
