"""docs/config.md, PlexSync.yml and the config model list the same settings with the same types, and the page
Stash draws from the yml starts with what matters.

Stash sorts a plugin's settings by key (pkg/plugin/config.go, ``sort.Strings(keys)``), so the keys set the order."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from validation.config import BOOL_KEYS, FLOAT_BOUNDS, INT_BOUNDS, PAGE_KEYS, TUNABLE_KEYS, PlexSyncConfig, load_config
from validation.settings.old_keys import OLD_KEYS
from validation.settings.names import PAGE_LABELS
from validation.settings.text import EXTRA_WORDS, SKIP_WORDS

REPO = Path(__file__).resolve().parents[2]
FIRST_FOUR = ["path_map", "plex_library", "plex_token", "plex_url"]  # the contract keeps these keys
MAX_ON_PAGE = 20
CONFIG_DOC = (REPO / "docs" / "config.md").read_text(encoding="utf-8")


def manifest() -> dict:
    return yaml.safe_load((REPO / "PlexSync.yml").read_text(encoding="utf-8"))


def yml_settings() -> dict[str, dict]:
    return manifest()["settings"]


def doc_rows(section: str) -> dict[str, str]:
    """``{key: second column}`` of the table under ``## section`` in docs/config.md."""
    text = CONFIG_DOC.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| `?([A-Z_]+)`? \|", text, flags=re.MULTILINE))


def test_the_page_starts_with_what_a_new_user_needs_and_fits_a_screen():
    keys = list(yml_settings())
    shown = sorted(keys)  # Stash's order; Python's str order is Go's byte order for these ASCII keys
    assert shown[:4] == FIRST_FOUR and all(key > "plex_url" for key in shown[4:])
    assert len(keys) <= MAX_ON_PAGE and keys == shown == list(PAGE_KEYS)


def test_docs_yml_and_model_agree():
    assert set(yml_settings()) == set(PAGE_KEYS) == set(doc_rows("On the settings page"))
    assert set(PlexSyncConfig.model_fields) == set(PAGE_KEYS) | set(TUNABLE_KEYS)
    assert list(doc_rows("Expert tunables")) == list(TUNABLE_KEYS)
    assert all(variable == f"PLEXSYNC_{key.upper()}" for key, variable in doc_rows("Expert tunables").items())


def test_types_agree_with_the_contract():
    numbers = set(INT_BOUNDS) | set(FLOAT_BOUNDS)
    docs = doc_rows("On the settings page")
    for key, setting in yml_settings().items():
        expected = "BOOLEAN" if key in BOOL_KEYS else "NUMBER" if key in numbers else "STRING"
        assert setting["type"] == docs[key] == expected, key


def test_every_switch_is_off_by_default():
    """Stash shows a never-saved BOOLEAN as off: the default must be off too, or the page lies."""
    defaults = {key: field.default for key, field in PlexSyncConfig.model_fields.items()}
    switches = [key for key, setting in yml_settings().items() if setting["type"] == "BOOLEAN"]
    assert set(switches) == BOOL_KEYS & set(PAGE_KEYS)
    assert {key: defaults[key] for key in BOOL_KEYS} == dict.fromkeys(BOOL_KEYS, False)
    config = load_config({"plex_url": "http://plex:32400", "plex_token": "t"})[0]
    assert not any(getattr(config, key) for key in BOOL_KEYS)
    documented = dict(re.findall(r"^\| `(\w+)` \| BOOLEAN \| (\w+) \|", CONFIG_DOC, flags=re.MULTILINE))
    assert documented == dict.fromkeys(switches, "false")


def test_display_names_are_the_labels_and_the_model_descriptions():
    """The command line's help and every message show the model's description: the page's words."""
    for key, setting in yml_settings().items():
        assert PlexSyncConfig.model_fields[key].description == setting["displayName"] == PAGE_LABELS[key], key


def test_descriptions_use_labels_never_keys():
    """A description names another setting as the page shows it, never by a key the page does not show."""
    data = manifest()
    texts = [setting["description"] for setting in data["settings"].values()]
    texts += [entry["description"] for entry in data["tasks"] + data["hooks"]] + [data["description"]]
    keys = set(PlexSyncConfig.model_fields) | OLD_KEYS
    for text in texts:
        named = {word for word in re.findall(r"[a-z]+(?:_[a-z]+)+", text)} & keys
        assert not named, (named, text)


def test_the_docs_list_every_word_and_every_earlier_key():
    sections = (("Fields PlexSync leaves alone", "skip_fields", SKIP_WORDS),
                ("Extras to turn on", "with_extras", EXTRA_WORDS))
    for section, key, words in sections:
        text = CONFIG_DOC.split(f"### {section}\n", 1)[1].split("\n#", 1)[0]
        assert re.findall(r"^\| `([a-z ]+)` \|", text, flags=re.MULTILINE) == list(words), section
        assert all(word in yml_settings()[key]["description"] for word in words), key
    earlier = CONFIG_DOC.split("## Settings saved by earlier versions\n", 1)[1].split("\n## ", 1)[0]
    assert OLD_KEYS <= set(re.findall(r"`(\w+)`", earlier))


def test_the_package_index_description_is_one_line():
    """CommunityScripts' build_site.sh reads ``^description:`` with grep, one line, as the index's text."""
    lines = (REPO / "PlexSync.yml").read_text(encoding="utf-8").splitlines()
    description = [line for line in lines if line.startswith("description:")]
    assert len(description) == 1 and len(description[0]) > 40 and ">" not in description[0].split(":", 1)[1][:3]
