"""Settings as Stash holds them, as Stash runs the plugin: keys of earlier versions still apply with a warning, a
new key saved as the page saves it takes over, and expert tunables come from tunables.conf and PLEXSYNC_*.

Stash returns the whole stored map, declared keys or not (docs/emulator-fidelity.md), and the settings page
saves the stored map plus the one changed key, so old keys live on beside new ones."""

from __future__ import annotations

import os

import pytest

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e


def first_item(harness, rating_keys):
    return harness.plex.item(rating_keys[lib.SCENES[0].relative_path])


def test_earlier_keys_apply_until_the_page_saves_the_new_one(harness):
    _, rating_keys = lib.populate_plex(harness.plex)
    lib.populate_stash(harness.stash)
    harness.settings(skip_poster=True, skip_background=True, skip_tags=False, pause_sync=False, max_tags=1)

    synced = harness.task("Sync All Scenes")
    assert synced.error is None, synced.error
    item = first_item(harness, rating_keys)
    assert item.posters == [] and item.arts == [] and item.tags["genre"] == ["Outdoor"]  # max_tags 1, in Stash
    warned = [text for level, text in synced.logs if level == "warning" and "earlier PlexSync" in text]
    assert len(warned) == 1 and 'enter "poster, background" in "Fields PlexSync leaves alone"' in warned[0]

    stored = harness.stash.plugin_settings("PlexSync")
    harness.stash.set_plugin_settings("PlexSync", {**stored, "skip_fields": "background"})  # as the page saves
    synced = harness.task("Sync All Scenes")
    assert synced.error is None, synced.error
    item = first_item(harness, rating_keys)
    assert len(item.posters) == 1 and item.arts == []  # the page's value decides now
    assert not [text for _, text in synced.logs if "earlier PlexSync" in text]


def test_tunables_come_from_the_data_folder_and_the_environment(harness):
    _, rating_keys = lib.populate_plex(harness.plex)
    lib.populate_stash(harness.stash)
    harness.data_dir.mkdir(parents=True, exist_ok=True)
    (harness.data_dir / "tunables.conf").write_text("# expert\nmax_tags = 2\nmax_retrys = 3\n", encoding="utf-8")
    harness.settings(max_tags=50)  # saved in Stash before it left the page: the file is the newer intent
    synced = harness.task("Sync All Scenes")
    assert synced.error is None, synced.error
    assert any("unknown tunable 'max_retrys' ignored (did you mean max_retries?)" in text
               for level, text in synced.logs if level == "warning")
    assert first_item(harness, rating_keys).tags["genre"] == ["Outdoor", "Evening"]

    harness.runner.env = {**os.environ, "PLEXSYNC_MAX_TAGS": "zero"}  # Stash's environment, as a Docker file sets it
    failed = harness.task("Health Check")
    assert failed.error and "PLEXSYNC_MAX_TAGS (max_tags in tunables.conf): expected a number" in failed.error
