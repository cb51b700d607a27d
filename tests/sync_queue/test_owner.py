"""One data folder, one Stash: two Stash servers are told apart by the id in each one's config folder; a Stash
restarted, on a new port or with its config folder moved is still the owner.

The folder's path cannot tell them apart: two Docker containers both call theirs /root/.stash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync_queue.database import Database
from sync_queue.intake.owner import ID_FILE, KV_OWNER, ForeignStashError, check_owner, stash_id

SHARED = {"PLEXSYNC_DATA_DIR": "/shared/plexsync"}


@pytest.fixture()
def store(tmp_path: Path):
    with Database(tmp_path / "data") as opened:
        yield opened


def connection(folder: Path, port: int = 9999) -> dict:
    return {"Scheme": "http", "Host": "0.0.0.0", "Port": port, "Dir": str(folder)}


def test_another_stash_whose_config_folder_has_the_same_path_is_refused(store, tmp_path):
    config = tmp_path / "root" / ".stash"
    check_owner(store, connection(config), SHARED)
    # A second container: its own /root/.stash, so its own id, at the very same path.
    (config.joinpath(*ID_FILE)).write_text("another-container")
    with pytest.raises(ForeignStashError, match="already belongs to the Stash"):
        check_owner(store, connection(config), SHARED)


def test_one_stash_restarted_on_a_new_port_or_moved_is_still_the_owner(store, tmp_path):
    config = tmp_path / "config"
    check_owner(store, connection(config), SHARED)
    check_owner(store, connection(config, port=9998), SHARED)
    moved = tmp_path / "new-disk" / "config"
    moved.parent.mkdir()
    config.rename(moved)  # its id file goes along
    check_owner(store, connection(moved, port=9998), SHARED)
    assert store.get_json(KV_OWNER) == {"id": stash_id(str(moved)), "dir": os.path.normcase(str(moved))}


def test_an_owner_recorded_by_path_is_kept_by_its_stash_and_refuses_another(store, tmp_path):
    config, other = tmp_path / "config", tmp_path / "other"
    store.set_json(KV_OWNER, os.path.normcase(os.path.abspath(config)))  # written before ids existed
    check_owner(store, connection(config), SHARED)
    assert store.get_json(KV_OWNER)["id"] == stash_id(str(config))
    with pytest.raises(ForeignStashError):
        check_owner(store, connection(other), SHARED)


def test_without_a_shared_folder_a_new_identity_means_the_folder_moved(store, tmp_path):
    check_owner(store, connection(tmp_path / "a"), {})
    check_owner(store, connection(tmp_path / "b"), {})
    assert store.get_json(KV_OWNER)["dir"] == os.path.normcase(str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()  # no id file: a folder of its own needs none


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="a read-only folder needs POSIX modes, not root")
def test_a_config_folder_that_cannot_keep_the_id_falls_back_to_its_path(store, tmp_path):
    config = tmp_path / "read-only"
    config.mkdir(mode=0o500)
    try:
        assert stash_id(str(config)) is None
        check_owner(store, connection(config), SHARED)
        check_owner(store, connection(config), SHARED)
        with pytest.raises(ForeignStashError):
            check_owner(store, connection(tmp_path / "elsewhere"), SHARED)
    finally:
        config.chmod(0o700)


def test_the_id_is_made_once_and_read_back_unchanged(tmp_path):
    first = stash_id(str(tmp_path))
    assert first and len(first) == 32 and stash_id(str(tmp_path)) == first
    assert [path.name for path in tmp_path.joinpath(*ID_FILE[:-1]).iterdir()] == [ID_FILE[-1]]  # no temp left
