"""The command line for issue 21: ``import-plays --dry-run`` shows the ratings an import would change and writes
nothing (``gaps`` is run from the command line in tests/e2e/tasks/test_gaps_e2e.py)."""

from __future__ import annotations

import json

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from tests.worker.test_cli import cli_env, library, run_cli


def test_import_plays_dry_run_lists_the_rating_change_and_writes_nothing(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        keys = library(plex, stash, 2)
        env = cli_env(tmp_path, plex, stash, ratings_from_plex="true")
        assert run_cli("sync-all", "--json", env=env).returncode == 0
        plex.library.rate(keys[0], "7")
        result = run_cli("import-plays", "--dry-run", env=env)
        again = json.loads(run_cli("import-plays", "--dry-run", "--json", env=env).stdout)["output"]
        rating = stash.scene("1")["rating100"]
    assert result.returncode == 0, result.stderr
    assert "Preview (nothing was written): an import would add 0 plays to 0 scenes, change 0 resume points " \
           "and 1 rating" in result.stdout
    assert [(item["scene_id"], item["stash_before"], item["stash_after"]) for item in again["ratings"]] == [(1, None, 70)]
    assert rating is None
