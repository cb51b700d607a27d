"""Stash plays sent to Plex never come back into Stash (issue 19, part 2), whatever fails, retries or runs between.

From PMS 1.40.0.7998 marking an item played writes no history row (python-plexapi PR #1366): Plex shows the item
watched (viewCount, lastViewedAt) and its history holds only plays made in a Plex client. The Plex emulator
imitates that, and an older server that did write a row; the clocks move with freezegun.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from sync_queue.ledgers.plays import PlayLedger
from tests.integration.conftest import World
from tests.integration.viewing.test_plays import add_stash_play, scrobbles, stash_plays
from validation import stash_log

OLD_PLEX = "1.32.8.7639-fb6452ebf"  # before 1.40.0.7998: a scrobble also wrote a history row


@pytest.fixture(autouse=True)
def default_logging():
    yield
    stash_log.configure()


@pytest.fixture()
def clock():
    # pytest's own timing (test durations) keeps the real clock
    with freeze_time(datetime.now(timezone.utc), tick=True, ignore=["_pytest.timing"]) as frozen:
        yield frozen


def linked_world(tmp_path, plex_version: str | None = None):
    """A world whose one scene is synced (linked) to its Plex item, with Stash plays going to Plex."""
    plex = PlexEmulator(token=lib.PLEX_TOKEN, **({"version": plex_version} if plex_version else {}))
    stash = StashEmulator()
    world = World(tmp_path, stash.__enter__(), plex.__enter__())
    scene, key = world.scene("loop.mp4", size=321, title="Loop")
    assert world.run("sync_all")["succeeded"] == 1
    world.settings(scrobble_stash_plays=True)
    assert world.run("import_plays")["sent_to_plex"] == 0  # the switch is seen on: plays from now on
    return world, scene, key, (plex, stash)


@pytest.fixture()
def linked(tmp_path, clock):
    world, scene, key, emulators = linked_world(tmp_path)
    yield world, scene, key
    for emulator in emulators:
        emulator.__exit__(None, None, None)


def import_failing(world, monkeypatch, how: str) -> None:
    """One import during which Plex refuses every scrobble (503), or which dies right after Plex took a scrobble
    (before PlexSync could write that down). It fails only if it had a scrobble to send."""
    if how == "refused":
        world.plex.fail(r"^/:/scrobble$", 503, times=None)
    else:
        def die(*_args, **_kwargs):
            raise KeyboardInterrupt("killed after Plex took the scrobble")

        monkeypatch.setattr(PlayLedger, "scrobble_done", die)
    try:
        world.run("import_plays")
    except (KeyboardInterrupt, Exception) as exc:
        assert "503" in str(exc) or isinstance(exc, KeyboardInterrupt), exc
    finally:
        world.plex.clear_faults()
        monkeypatch.undo()


# steps, and the views Plex then shows. A scrobble left open counts as taken once the item shows a view after it
# was written down: a play in Plex meanwhile stands for it (Plex shows the item watched either way).
ORDERS = {
    "refused, then an import 20 minutes later": (["stash", "refused", "later", "import"], 1),
    "crash after Plex took it, then an import 20 minutes later": (["stash", "crashed", "later", "import"], 1),
    "refused, a play in Plex, then 20 minutes": (["stash", "refused", "plex", "later", "import"], 1),
    "everything twice, interleaved": (["plex", "import", "stash", "stash", "crashed", "refused", "later", "plex",
                                       "refused", "later", "import"], 3),
}


@pytest.mark.parametrize(("steps", "views"), list(ORDERS.values()), ids=list(ORDERS))
def test_a_stash_play_never_comes_back_into_stash(linked, clock, monkeypatch, steps, views):
    world, scene, key = linked
    stash_count = plex_count = 0
    for step in steps:
        if step == "stash":
            add_stash_play(world, scene, int(time.time()) + 5)
            stash_count += 1
        elif step == "plex":
            world.plex.watch.play(key, viewed_stamp=int(time.time()))  # someone watched it in a Plex client
            plex_count += 1
        elif step == "later":
            clock.move_to(datetime.now(timezone.utc) + timedelta(minutes=20))
        elif step == "import":
            world.run("import_plays")
        else:
            import_failing(world, monkeypatch, step)
    for _ in range(2):
        world.run("import_plays")

    assert stash_plays(world, scene)["play_count"] == stash_count + plex_count
    assert len(world.plex.watch.plays_of(key)) == plex_count  # Plex's history: only the plays made in Plex
    assert int(world.plex.item(key).fields["viewCount"]) == views  # the item shows watched
    assert world.run("import_plays")["sent_to_plex"] == 0


def test_an_older_plex_gets_no_stash_plays_and_says_so_once(tmp_path, capsys):
    world, scene, key, emulators = linked_world(tmp_path, plex_version=OLD_PLEX)  # its first import says so
    try:
        add_stash_play(world, scene, int(time.time()) + 5)
        world.plex.watch.play(key, viewed_stamp=int(time.time()))  # a play in Plex itself still comes in
        for _ in range(2):
            result = world.run("import_plays")
        assert (result["sent_to_plex"], scrobbles(world)) == (0, 0)
        lines = capsys.readouterr().err.splitlines()
        told = [line for line in lines if "Stash plays are not sent to this Plex" in line]
        assert len(told) == 1 and told[0].startswith("\x01i\x02") and OLD_PLEX in told[0], told
        assert stash_plays(world, scene)["play_count"] == 2
    finally:
        for emulator in emulators:
            emulator.__exit__(None, None, None)


def test_a_stash_play_is_not_marked_on_an_item_that_no_longer_holds_the_scenes_file(linked, capsys):
    """The write-safety rule for scrobbles: the linked item now holds another file (the scene's file was replaced
    and Plex made a new item for it) and the index has not seen it. The play waits, the scene is matched again,
    and the next import marks the item that holds the file."""
    world, scene, key = linked
    world.plex.move_file(key, f"{lib.PLEX_ROOT}/someone-else.mp4", size=999)
    world.plex.library.scan(world.section, None)  # Plex's own scan: the item now holds the other file
    new_key = world.plex.add_item(world.section, file=f"{lib.PLEX_ROOT}/loop.mp4", size=321, title="Loop again")
    add_stash_play(world, scene, int(time.time()) + 5)

    assert world.run("import_plays")["sent_to_plex"] == 0
    assert world.plex.item(key).fields.get("viewCount", "0") == "0"  # the other scene's item is untouched
    assert world.state(scene)["rating_key"] is None
    assert "Plex item %s no longer holds this scene's file" % key in capsys.readouterr().err

    assert world.run("sync_all")["succeeded"] == 1
    assert world.state(scene)["rating_key"] == new_key
    assert world.run("import_plays")["sent_to_plex"] == 1
    assert (world.plex.item(new_key).fields["viewCount"], world.plex.item(key).fields.get("viewCount", "0")) == \
        ("1", "0")
    assert world.run("import_plays")["sent_to_plex"] == 0
