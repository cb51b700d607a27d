"""A Stash play sent to Plex stays one play in Stash, as Stash runs the plugin (issue 19, part 2), even when Plex
refuses the first scrobble (503) and the next import runs 20 minutes later by the plugin's own clock.

On PMS 1.40+ marking played writes no history row (python-plexapi PR #1366); an older server would write one,
so nothing is sent."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time

from emulators import demo_library as lib
from emulators.plex import views as plex_xml
from emulators.plex.server import PlexEmulator
from emulators.plugin_runner import PluginRunner
from sync_queue.store import Store

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
SHIFTED_CLOCK = Path(__file__).parents[1] / "shifted_clock"  # its sitecustomize moves the plugin's clocks
TWENTY_MINUTES_S = 1200


@pytest.fixture(params=[plex_xml.VERSION, "1.32.8.7639-fb6452ebf"], ids=["PMS 1.41", "PMS 1.32"])
def plex(request):
    with PlexEmulator(token=lib.PLEX_TOKEN, version=request.param) as emulator:
        yield emulator


@pytest.fixture()
def clock():
    """This process's clocks (the emulators'), ticking, to be moved on as the plugin's are."""
    # pytest's own timing (test durations) keeps the real clock
    with freeze_time(datetime.now(timezone.utc), tick=True, ignore=["_pytest.timing"]) as frozen:
        yield frozen


def later_runner(harness, seconds: float) -> PluginRunner:
    env = {**os.environ, "PYTHONPATH": str(SHIFTED_CLOCK), "PLEXSYNC_TEST_CLOCK_AHEAD_S": str(seconds)}
    return PluginRunner(REPO, harness.runner.server_connection, env=env)


def test_a_scrobble_refused_once_then_an_import_20_minutes_later_leaves_one_play_in_stash(harness, plex, clock):
    section = plex.add_section(title="Stash", locations=[lib.PLEX_ROOT], type="movie")
    key = plex.add_item(section, file=f"{lib.PLEX_ROOT}/once.mp4", size=4242, title="once")
    scene = harness.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/once.mp4", "size": 4242}], title="Once")
    harness.settings(scrobble_stash_plays=True)
    assert harness.task("Sync All Scenes").error is None
    seen_on = harness.task("Import Plex Plays")  # the switch is seen on: Stash plays from now on
    assert seen_on.error is None, seen_on.error
    harness.stash.plays.add_plays(scene, [datetime.fromtimestamp(time.time() + 5, timezone.utc)])

    plex.fail(r"^/:/scrobble$", 503, times=None)
    refused = harness.task("Import Plex Plays")
    modern = plex.version == plex_xml.VERSION
    assert (refused.error is not None and "503" in refused.error) == modern, refused.error  # older: nothing sent
    plex.clear_faults()

    clock.move_to(datetime.now(timezone.utc) + timedelta(seconds=TWENTY_MINUTES_S))  # Plex's and Stash's time
    later = later_runner(harness, TWENTY_MINUTES_S)  # and the plugin's
    for _ in range(2):
        result = later.run_task("Import Plex Plays", timeout=180)
        assert result.error is None, result.error
    with Store(harness.data_dir) as store:  # the import did run 20 minutes later by its own clock
        assert abs(float(store.get_json("plex_plays_last_run", 0)) - time.time()) < 120

    assert len(harness.stash.plays.of(scene).plays) == 1  # still the one play recorded in Stash
    assert plex.watch.plays_of(key) == []  # Plex's history has no row for it
    assert plex.item(key).fields.get("viewCount") == ("1" if modern else None)  # watched, on a server that takes it
    told = [text for level, text in seen_on.logs if "Stash plays are not sent to this Plex" in text]
    assert len(told) == (0 if modern else 1), seen_on.logs  # an older Plex: said once, at Info
