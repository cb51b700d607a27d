"""docs/config.md, PlexSync.yml and the config model list the same settings, with the same types."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from validation.config import BOOL_KEYS, FLOAT_BOUNDS, INT_BOUNDS, PlexSyncConfig, load_config

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {
    "plex_url", "plex_token", "plex_library", "path_map", "pause_sync", "skip_tls_verify", "skip_title",
    "skip_summary", "skip_tagline", "skip_date", "skip_studio", "skip_performers", "skip_tags", "skip_rating",
    "skip_director", "skip_poster", "skip_background", "skip_collections", "loose_matching", "preserve_plex_edits",
    "skip_not_found", "trigger_plex_scan", "max_retries", "connect_timeout", "read_timeout", "max_tags",
    "settle_seconds", "max_task_minutes", "log_format", "debug_logging", "obfuscate_paths",
}
CONTRACT_KEYS |= {"import_plex_plays", "plex_play_accounts", "import_plays_minutes", "scrobble_stash_plays"}  # issue 14: plays from Plex
CONTRACT_KEYS |= {"title_from_filename", "write_sort_title", "content_rating", "content_rating_tags",
                  "collection_tags", "group_collections"}  # issue 14: metadata users ask for
CONTRACT_KEYS |= {"stash_url_for_plex", "photo_urls_with_api_key", "skip_collection_posters"}  # issue 14: photos, posters
CONTRACT_KEYS |= {"ratings_from_plex"}  # issue 21: ratings from Plex


def yml_settings() -> dict[str, dict]:
    return yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))["settings"]


def doc_table() -> dict[str, str]:
    text = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `(\w+)` \| (STRING|NUMBER|BOOLEAN) \|", text, flags=re.MULTILINE))


def test_docs_yml_model_and_contract_agree():
    yml = yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))["settings"]
    assert set(yml) == set(PlexSyncConfig.model_fields) == set(doc_table()) == CONTRACT_KEYS


def test_types_agree_with_the_contract():
    yml = yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))["settings"]
    docs = doc_table()
    numbers = set(INT_BOUNDS) | set(FLOAT_BOUNDS)
    for key in CONTRACT_KEYS:
        expected = "BOOLEAN" if key in BOOL_KEYS else "NUMBER" if key in numbers else "STRING"
        assert yml[key]["type"] == docs[key] == expected, key


def test_every_switch_in_the_yml_is_off_by_default():
    """Stash shows a never-saved BOOLEAN as off: the default must be off too, or the page lies."""
    defaults = {key: field.default for key, field in PlexSyncConfig.model_fields.items()}
    switches = [key for key, setting in yml_settings().items() if setting["type"] == "BOOLEAN"]
    assert len(switches) == len(BOOL_KEYS)
    assert {key: defaults[key] for key in switches} == dict.fromkeys(switches, False)
    config = load_config({"plex_url": "http://plex:32400", "plex_token": "t"})[0]
    assert not any(getattr(config, key) for key in switches)


def test_docs_say_every_switch_is_off_by_default():
    defaults = dict(re.findall(r"^\| `(\w+)` \| BOOLEAN \| (\w+) \|", (REPO / "docs" / "config.md").read_text(
        encoding="utf-8"), flags=re.MULTILINE))
    assert defaults == dict.fromkeys(BOOL_KEYS, "false")


def test_display_names_are_the_model_descriptions():
    """The command line's help shows the model's description: the same words as Stash's settings page."""
    for key, setting in yml_settings().items():
        assert PlexSyncConfig.model_fields[key].description == setting["displayName"], key
