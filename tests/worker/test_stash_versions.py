"""PlexSync adapts to the Stash release it talks to (issue 19, part 3): each release gets documents its own schema
accepts. The older releases' schemas are Stash's own files of that tag (emulators/stash/schemas)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from emulators.stash.releases import NEWEST, OLDEST, RELEASES
from emulators.stash.server import StashEmulator
from worker.viewing.stash_calls import PLAY_DOCUMENTS
from worker.viewing.scrobbles import SCROBBLE_DOCUMENTS
from worker.stash.queries import ALL_DOCUMENTS, documents_for
from worker.stash.versions import OLDEST_SUPPORTED, features_of


@pytest.fixture(scope="module")
def schemas():
    return {version: build_schema(release.schema_text()) for version, release in RELEASES.items()}


def errors(schema, document: str) -> list[str]:
    return [error.message for error in validate(schema, parse(document))]


@pytest.mark.parametrize(("text", "release", "groups", "plays"), [
    ("v0.24.3", (0, 24, 3), False, False),
    ("v0.25.0", (0, 25, 0), False, True),
    ("v0.26.2-14-gabc123def", (0, 26, 2), False, True),
    ("v0.27.0", (0, 27, 0), True, True),
    ("v0.30.1", (0, 30, 1), True, True),
    ("", None, True, True),  # a development build names no release: the newest is assumed
])
def test_what_each_release_can_be_asked(text, release, groups, plays):
    features = features_of(text)
    assert (features.release, features.groups, features.play_history) == (release, groups, plays)


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_every_document_for_a_release_is_valid_against_its_own_schema(schemas, version):
    documents = documents_for(features_of(version)).as_dict()
    assert {name: errors(schemas[version], text) for name, text in documents.items()} == \
        {name: [] for name in documents}


def test_the_oldest_release_refuses_what_only_newer_ones_have(schemas):
    """Why the documents differ (and that the stored schema is strict): v0.24 knows no groups, no findScenes(ids:),
    no plugins(include: [ID!]) and no play history."""
    old = schemas[OLDEST.version]
    assert "Cannot query field 'groups' on type 'Scene'." in errors(old, ALL_DOCUMENTS["SCENES_PAGE"])
    assert "Unknown argument 'ids' on field 'Query.findScenes'." in errors(old, ALL_DOCUMENTS["SCENES_BY_IDS"])
    assert errors(old, ALL_DOCUMENTS["PLUGIN_SETTINGS"])
    assert errors(old, PLAY_DOCUMENTS["ADD_PLAYS"]) and errors(old, SCROBBLE_DOCUMENTS["RECENTLY_PLAYED"])
    assert features_of(OLDEST.version).release >= OLDEST_SUPPORTED


def test_the_emulator_presents_itself_as_that_release():
    with StashEmulator(release=OLDEST.version) as old:
        status, answer = old.run_graphql({"query": "{ version { version } }"})
        assert (status, answer["data"]["version"]["version"]) == (200, "v0.24.3")
        status, answer = old.run_graphql({"query": "{ findScenes { scenes { groups { group { id } } } } }"})
        assert status == 422 and "Cannot query field 'groups'" in answer["errors"][0]["message"]
        group = old.add_group("Summer")
        scene = old.add_scene(group_ids=[group])
        query = ("query($ids: [Int!]) { findScenes(scene_ids: $ids) "
                 "{ scenes { movies { movie { front_image_path } } } } }")
        status, answer = old.run_graphql({"query": query, "variables": {"ids": [int(scene)]}})
        image = answer["data"]["findScenes"]["scenes"][0]["movies"][0]["movie"]["front_image_path"]
        assert status == 200 and f"/movie/{group}/frontimage?t=" in image  # v0.24's route for a movie's image
    assert NEWEST.version in RELEASES and NEWEST.group_route == "group"


def test_on_the_oldest_release_the_page_can_ask_the_version_and_run_tasks_but_not_operations(schemas):
    """So on Stash 0.24 the page can still say what it needs (ui/plexsync.js, the version note)."""
    script = (Path(__file__).resolve().parents[2] / "ui" / "plexsync.js").read_text(encoding="utf-8")
    documents = {name: text for text, name in re.findall(r'"((?:query|mutation) (PlexSync\w+)[^"]*)"', script)}
    old = schemas[OLDEST.version]
    # Scene titles are asked by ids (findScenes(ids:), 0.25) for the page, which needs 0.25 anyway.
    assert {name: bool(errors(old, text)) for name, text in documents.items()} == {
        "PlexSyncOperation": True, "PlexSyncTask": False, "PlexSyncJob": False, "PlexSyncStashVersion": False,
        "PlexSyncSceneTitles": True}


def test_the_reader_asks_the_version_once_and_reads_movies_as_groups_on_the_oldest_release():
    from worker.stash.reader import StashReader

    with StashEmulator(release=OLDEST.version) as old:
        group = old.add_group("Summer")
        scenes = [old.add_scene(title=f"S{n}", group_ids=[group] if n else []) for n in range(3)]
        reader = StashReader(old.server_connection("/tmp", "/tmp"))
        read = reader.scenes_by_ids(scenes)
        assert [entry["group"]["name"] for entry in read[int(scenes[1])]["groups"]] == ["Summer"]
        assert read[int(scenes[0])]["groups"] == []
        assert reader.scene_ids_for("group", group) == [int(s) for s in scenes[1:]]
        assert [name for name, _, _ in old.queries].count("PlexSyncStashVersion") == 1
