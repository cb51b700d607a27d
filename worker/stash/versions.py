"""What the running Stash can be asked, from its version (asked once per run: ``version { version }``).

Each threshold is the first release whose GraphQL schema has it (stashapp/stash, ``graphql/schema`` history):

- v0.25.0: ``findScenes(ids: [ID!])`` (#4493; before, ``scene_ids: [Int!]``), ``plugins(include: [ID!])`` (#4511;
  before, ``[String!]``), a scene's play history — ``play_history``, ``sceneAddPlay`` (#4532) — and
  ``runPluginOperation`` (#4603, which PlexSync's page uses).
- v0.27.0: groups — ``Scene.groups``, ``SceneFilterType.groups`` (#5017). Before, the same objects are movies
  (``Scene.movies``, ``SceneFilterType.movies``); v0.27 renamed the table, so a movie's id is its group's id.
- v0.28.0: a plugin can add to a scene's page (``ScenePage`` patchable, #5703); PlexSync's badge needs it.

PlexSync supports v0.24.0 and newer: plugin settings and the plugin package manager arrived there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Release = tuple[int, int, int]

OLDEST_SUPPORTED: Release = (0, 24, 0)
ID_ARGUMENTS: Release = (0, 25, 0)
PLAY_HISTORY: Release = (0, 25, 0)
GROUPS: Release = (0, 27, 0)
_RELEASE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def release_name(release: Release) -> str:
    return "{}.{}.{}".format(*release)


@dataclass(frozen=True)
class StashFeatures:
    """One Stash's version and what PlexSync may ask of it."""

    text: str  # as Stash gave it ("v0.30.1"; "" when it gave none)
    release: Release | None  # None: a build that names no release (a development build): the newest is assumed

    def has(self, release: Release) -> bool:
        return self.release is None or self.release >= release

    @property
    def groups(self) -> bool:
        return self.has(GROUPS)

    @property
    def id_arguments(self) -> bool:
        return self.has(ID_ARGUMENTS)

    @property
    def play_history(self) -> bool:
        return self.has(PLAY_HISTORY)

    @property
    def name(self) -> str:
        return self.text or "a development build"

    def needs(self, release: Release, what: str) -> str:
        """The plain sentence for something this Stash is too old for."""
        return (f"{what} needs Stash {release_name(release)} or newer; this Stash is {self.name}. "
                "Update Stash to use it.")


def features_of(version_text: str | None) -> StashFeatures:
    """``v0.24.3`` → release (0, 24, 3); a text without a release number → the newest is assumed."""
    text = str(version_text or "").strip()
    match = _RELEASE.search(text)
    release = (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    return StashFeatures(text, release)
