"""docs/config.md, PlexSync.yml and the config model list the same settings, with the same types."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from validation.config import BOOL_KEYS, FLOAT_BOUNDS, INT_BOUNDS, PlexSyncConfig

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {
    "plex_url", "plex_token", "plex_library", "path_map", "verify_tls", "enabled", "sync_title", "sync_summary",
    "sync_tagline", "sync_date", "sync_studio", "sync_performers", "sync_tags", "sync_rating", "sync_director",
    "sync_poster", "sync_background", "sync_collections", "strict_matching", "preserve_plex_edits", "skip_not_found",
    "trigger_plex_scan", "max_retries", "connect_timeout", "read_timeout", "max_tags", "settle_seconds",
    "max_task_minutes", "log_format", "debug_logging", "obfuscate_paths",
}
CONTRACT_KEYS |= {"import_plex_plays", "plex_play_accounts", "import_plays_minutes", "scrobble_stash_plays"}  # issue 14: plays from Plex


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
