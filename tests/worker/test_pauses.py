"""An auth pause remembers which Plex URL and token were refused, as a salted hash (never the token)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from sync_queue.schema import KV_SPAWN_PAUSE
from sync_queue.store import Store
from worker.sync.pauses import HOOK_SPAWN_QUIET_S, current_pause, set_pause, settings_unchanged_since_pause


def config(url="http://plex:32400", token="abc-token"):
    return SimpleNamespace(plex_url=url, plex_token=token)


def test_an_auth_pause_knows_whether_the_url_or_token_changed(tmp_path):
    with Store(tmp_path) as store:
        set_pause(store, "auth", "Plex rejected the token (401)", config())
        pause = current_pause(store)
        assert "abc-token" not in json.dumps(pause)
        assert settings_unchanged_since_pause(pause, config()) is True
        assert settings_unchanged_since_pause(pause, config(token="fixed")) is False
        assert settings_unchanged_since_pause(pause, config(url="http://other:32400")) is False
        assert store.get_json(KV_SPAWN_PAUSE) < time.time() + 60  # the next edit soon checks the settings again


def test_a_pause_without_settings_is_never_taken_as_unchanged(tmp_path):
    with Store(tmp_path) as store:
        set_pause(store, "config", "Plex says the library 'Films' does not exist", config())
        assert settings_unchanged_since_pause(current_pause(store), config()) is False
        assert store.get_json(KV_SPAWN_PAUSE) > time.time() + HOOK_SPAWN_QUIET_S - 5
        set_pause(store, "auth", "Plex rejected the token (401)")
        assert settings_unchanged_since_pause(current_pause(store), config()) is False
