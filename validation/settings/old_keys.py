"""Settings saved under the keys earlier PlexSync versions used keep working.

Stash keeps a plugin's saved values whatever its yml declares today: ``configuration { plugins }`` returns the
stored map (internal/api/resolver_model_config.go → config.GetPluginConfiguration), and the settings page saves
that whole map back with the one changed key (ui SettingsPluginsPanel: ``{...pluginSettings, [name]: v}``). So
an old key stays in the map until the user deletes Stash's config, and is read here: renamed ones under their
new key, the per-field switches as words of "Fields PlexSync leaves alone" or "Extras to turn on", the two
content-rating settings as one. A new key the user saved wins over the old ones it replaces: the page then
shows what applies. An old value that still applies is named in a warning, since the page cannot show it.
"""

from __future__ import annotations

from typing import Any, Mapping

from validation.settings.names import label
from validation.settings.text import EXTRA_WORDS, SKIP_WORDS, words_for
from validation.settings.values import FALSE_WORDS, TRUE_WORDS, coerce_bool

RENAMED: dict[str, str] = {
    "pause_sync": "sync_paused",
    "loose_matching": "use_closest_match",
    "debug_logging": "verbose_logging",
    "import_plex_plays": "watch_history_from_plex",
    "plex_play_accounts": "watch_history_accounts",
    "photo_urls_with_api_key": "stash_url_with_api_key",
    "collection_tags": "tag_collections",
}
FOLDED: dict[str, dict[str, str]] = {"skip_fields": SKIP_WORDS, "with_extras": EXTRA_WORDS}  # its words → switches
CONTENT_RATING_KEYS = ("content_rating_tags", "content_rating")  # rules first, then the plain rating
OLD_KEYS = frozenset({*RENAMED, *SKIP_WORDS.values(), *EXTRA_WORDS.values(), *CONTENT_RATING_KEYS})


def _saved(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _changes_something(value: Any) -> bool:
    """Worth a note: anything but an off switch (a switch turned on and off again is saved as false)."""
    return value is not False and value != 0 and str(value).strip().lower() not in FALSE_WORDS


def translate(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``raw`` with every old key read into its new one (a new key present wins), and a note per old value
    that still applies. Old keys are dropped from the result either way. ValueError: an old value that was
    never valid (it names the old key, which is what Stash holds)."""
    values = {key: value for key, value in raw.items() if key not in OLD_KEYS}
    notes: list[str] = []
    for old, new in RENAMED.items():
        if _saved(raw.get(old)) and new not in raw:
            values[new] = raw[old]
            if _changes_something(raw[old]):
                how = (f'turn on "{label(new)}"' if isinstance(raw[old], bool) or str(raw[old]).lower() in TRUE_WORDS
                       else f'enter "{str(raw[old]).strip()}" in "{label(new)}"')
                notes.append(_note(f"{old} = {raw[old]}", how))
    for new, words in FOLDED.items():
        switches = {switch for switch in words.values()
                    if _saved(raw.get(switch)) and coerce_bool(switch, raw[switch])}
        if switches and new not in raw:
            text = words_for(switches, words)
            values[new] = text
            notes.append(_note(", ".join(f"{switch} = true" for switch in sorted(switches)),
                               f'enter "{text}" in "{label(new)}"'))
    old_rating = [str(raw[key]).strip() for key in CONTENT_RATING_KEYS if _saved(raw.get(key))]
    _check_old_rules(raw.get("content_rating_tags"))
    if old_rating and "scene_content_rating" not in raw:
        values["scene_content_rating"] = "; ".join(old_rating)
        notes.append(_note(" and ".join(key for key in CONTENT_RATING_KEYS if _saved(raw.get(key))),
                           f'enter "{values["scene_content_rating"]}" in "{label("scene_content_rating")}"'))
    return values, notes


def _note(old: str, how: str) -> str:
    return (f"Saved by an earlier PlexSync and still in force, though Stash's settings page does not show it: {old}. "
            f"To see and change it there, {how} in PlexSync's settings")


def _check_old_rules(text: Any) -> None:
    """content_rating_tags held rules only: a part without ``=`` was an error then, and must not become the
    rating for every scene now."""
    for part in str(text or "").replace("\n", ";").split(";"):
        if part.strip() and "=" not in part:
            raise ValueError(f"content_rating_tags (saved by an earlier PlexSync): rule {part.strip()!r} must be "
                             f"Tag=Rating; write the rules in {label('scene_content_rating')} instead")
