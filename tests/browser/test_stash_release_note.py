"""PlexSync's page says what an older Stash cannot show (issue 19, part 3), against an emulated Stash of that
release with its own schema.

The page needs runPluginOperation (Stash 0.25, stashapp/stash#4603) and the scene badge a patchable ScenePage
(Stash 0.28, #5703)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.stash.releases import NEWEST, OLDEST
from emulators.stash.server import StashEmulator
from tests.browser.test_plexsync_pages import text_of, wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


@pytest.fixture(params=[OLDEST.version, NEWEST.version])
def stash(request, tmp_path):
    with StashEmulator(release=request.param) as emulator:
        emulator.set_plugin_settings("PlexSync", lib.plugin_settings("http://127.0.0.1:9"))
        emulator.install_plugin(REPO, tmp_path / "stash")
        yield emulator


def test_the_page_says_what_this_stash_release_cannot_show(stash, browser, screenshot):
    browser.get(stash.url + "/plugin/PlexSync")
    if stash.release is OLDEST:
        wait_for(browser, lambda: "Stash 0.28 or newer" in text_of(browser, "stash-version-note"),
                 "the page never said the badge needs Stash 0.28")
        note = text_of(browser, "stash-version-note")
        assert note.startswith("Stash v0.24.3: ") and "This page needs Stash 0.25 or newer" in note
        screenshot("plexsync-page-stash-0.24")
        return
    wait_for(browser, lambda: any(name == "PlexSyncStashVersion" for name, _, _ in stash.queries),
             "the page never asked Stash's version")
    deadline = time.time() + 1.0
    while time.time() < deadline:  # the answer has come back: no note appears for the newest Stash
        assert text_of(browser, "stash-version-note") == ""
        time.sleep(0.1)
