"""Stash and Plex on different systems: a file found by name and size, whatever case, whichever separator and
whichever Unicode form each side writes the name in. The index is listed from the emulator by the real client."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.plex.server import PlexEmulator
from plex.client import PlexClient
from plex.errors import AmbiguousMatch
from plex.matcher import Matcher, PathMapper
from sync_queue.store import Store
from worker.sync.index_refresh import refresh_index

LIBRARY = "/data/stash"


@pytest.fixture()
def store(tmp_path: Path):
    with Store(tmp_path / "store") as opened:
        yield opened


def _match(emu: PlexEmulator, client: PlexClient, store: Store, section_id: int, stash_path: str, size: int):
    sections = client.movie_sections([])
    refresh_index(store, client, sections)
    return Matcher(store, PathMapper([])).match([{"path": stash_path, "size": size}], None, {section_id},
                                                [LIBRARY])


@pytest.mark.parametrize(("stash_path", "plex_file"), [
    (r"D:\Videos\My Scene.mp4", "/data/stash/My Scene.mp4"),  # Windows Stash, Linux Plex
    (r"D:\Videos\Scene One.MP4", "/data/stash/Scene One.MP4"),
    (r"\\nas\videos\scene two.mp4", "/data/stash/Scene Two.mp4"),
    ("/mnt/other/scene three.mp4", r"D:\Plex\Scene Three.MP4"),  # Linux Stash, Windows Plex
    ("/Volumes/share/Cafe\u0301 Scene.mp4", "/data/stash/Caf\u00e9 Scene.mp4"),  # macOS share: NFD
    ("D:\\Videos\\Caf\u00e9.mp4", "/data/stash/CAFE\u0301.mp4"),
])
def test_a_file_outside_the_libraries_is_found_by_name_and_size(emu: PlexEmulator, client: PlexClient,
                                                                 section_id: int, store: Store, stash_path: str,
                                                                 plex_file: str) -> None:
    key = emu.add_item(section_id, plex_file, 4321, "scene")
    emu.add_item(section_id, "/data/stash/other.mp4", 4321, "other")
    found = _match(emu, client, store, section_id, stash_path, 4321)
    assert (found.rating_key, found.method, found.file) == (key, "basename_size", plex_file)


def test_names_that_differ_only_in_case_are_never_guessed_between(emu: PlexEmulator, client: PlexClient,
                                                                  section_id: int, store: Store) -> None:
    emu.add_item(section_id, "/data/stash/a/Scene.mp4", 10, "one")
    emu.add_item(section_id, "/data/stash/b/SCENE.mp4", 10, "two")
    with pytest.raises(AmbiguousMatch):
        _match(emu, client, store, section_id, r"D:\Videos\scene.mp4", 10)
