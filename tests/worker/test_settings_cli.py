"""Every setting has a command-line flag; unknown PLEXSYNC_* variables and a token on the command line are warned
about."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from validation.config import BOOL_KEYS, PlexSyncConfig, load_config, unknown_env_warnings
from worker.cli.main import build_parser, overrides_from, setting_warnings

REPO = Path(__file__).resolve().parents[2]
SAMPLE_VALUES = {"plex_url": "http://plex:32400", "plex_token": "flag-token", "plex_library": "Movies",
                 "path_map": "/a=/b", "max_retries": "3", "connect_timeout": "2.5", "read_timeout": "9",
                 "max_tags": "7", "settle_seconds": "0", "max_task_minutes": "5", "log_format": "json",
                 "watch_history_accounts": "alice, bob", "import_plays_minutes": "30",
                 "scene_content_rating": "Softcore=R; XXX", "tag_collections": "Outdoor",
                 "stash_url_for_plex": "http://192.168.1.10:9999", "skip_fields": "poster, tags",
                 "with_extras": "sort titles"}


def parse(*argv: str):
    return build_parser().parse_args(["process-queue", *argv])


def test_every_setting_has_a_flag_that_reaches_the_settings():
    argv = []
    for key in PlexSyncConfig.model_fields:
        flag = "--" + key.replace("_", "-")
        argv += [flag] if key in BOOL_KEYS else [flag, SAMPLE_VALUES[key]]
    overrides = overrides_from(parse(*argv), {})
    assert overrides == {**SAMPLE_VALUES, **dict.fromkeys(BOOL_KEYS, True)}
    config, warnings = load_config(overrides)
    assert warnings == [] and config.skip_poster and not config.sync_poster and config.max_tags == 7
    assert not config.enabled and config.write_sort_title and config.content_rating == "XXX"


def test_a_switch_flag_turns_off_what_stash_turned_on_and_an_absent_flag_changes_nothing():
    args = parse("--no-skip-tls-verify", "--sync-paused")
    overrides = overrides_from(args, {"PLEXSYNC_SKIP_TLS_VERIFY": "true", "PLEXSYNC_SKIP_NOT_FOUND": "true"})
    assert overrides == {"skip_tls_verify": False, "sync_paused": True, "skip_not_found": "true"}


def test_a_token_flag_is_accepted_with_a_warning_to_use_the_environment():
    args = parse("--plex-token", "flag-token")
    assert overrides_from(args, {})["plex_token"] == "flag-token"
    [warning] = setting_warnings(args, {})
    assert "process list" in warning and "PLEXSYNC_PLEX_TOKEN" in warning and "flag-token" not in warning
    assert setting_warnings(parse(), {"PLEXSYNC_PLEX_TOKEN": "t"}) == []


@pytest.mark.parametrize(("variable", "hint"), [
    ("PLEXSYNC_SKIP_FIELD", " (did you mean PLEXSYNC_SKIP_FIELDS?)"),
    ("PLEXSYNC_SYNC_PAUSE", " (did you mean PLEXSYNC_SYNC_PAUSED?)"),
    ("PLEXSYNC_MAX_TAG", " (did you mean PLEXSYNC_MAX_TAGS?)"),
    ("PLEXSYNC_WHATEVER", ""),
])
def test_an_unknown_variable_gets_the_did_you_mean_warning(variable, hint):
    environ = {variable: "1", "PLEXSYNC_PLEX_URL": "u", "PLEXSYNC_DATA_DIR": "/d", "PLEXSYNC_STASH_URL": "s",
               "PLEXSYNC_STASH_API_KEY": "k", "HOME": "/"}
    assert setting_warnings(parse(), environ) == [f"Unknown PlexSync environment variable {variable} ignored{hint}"]
    assert unknown_env_warnings({"PLEXSYNC_MAX_TAGS": "3", "PLEXSYNC_SKIP_POSTER": "1"}) == []  # an earlier key works


def test_the_command_line_shows_both_warnings(tmp_path):
    from sync_queue.store import Store

    with Store(tmp_path) as store:  # status reads an existing queue (a typo'd folder is an error, not a new one)
        store.intake_size()
    env = {**os.environ, "PLEXSYNC_DATA_DIR": str(tmp_path), "PLEXSYNC_SKIP_FIELD": "1"}
    result = subprocess.run([sys.executable, str(REPO / "PlexSync.py"), "status", "--json", "--plex-token",
                             "argv-token-123"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "PLEXSYNC_SKIP_FIELD ignored (did you mean PLEXSYNC_SKIP_FIELDS?)" in result.stderr
    assert "--plex-token is visible" in result.stderr and "argv-token-123" not in result.stderr
