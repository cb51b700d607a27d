"""Every GraphQL document PlexSync sends to Stash, as named constants (a test validates each against
Stash's real schema). Explicit field lists only: stashapi's default fragments change between versions.

The constants are for current Stash; ``documents_for`` gives the variants an older release takes (see
``worker.stash.versions``), each validated against that release's real schema (``emulators/stash/schemas``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

GROUPS = "groups { group { id name front_image_path } }"
# Before v0.27 a group is a movie: aliased, Stash answers in the groups' shape (the same ids).
MOVIES_AS_GROUPS = "groups: movies { group: movie { id name front_image_path } }"


def _scene_fields(groups: str) -> str:
    return f"""
    id title code details director date rating100 updated_at
    studio {{ id name image_path parent_studio {{ id name image_path }} }}
    performers {{ id name disambiguation image_path }}
    tags {{ id name }}
    {groups}
    files {{ path size }}
    paths {{ screenshot }}
"""


SCENE_FIELDS = _scene_fields(GROUPS)

VERSION = """
query PlexSyncStashVersion {
  version { version }
}
"""


def _plugin_settings(id_type: str) -> str:
    return f"""
query PlexSyncPluginSettings($ids: [{id_type}!]) {{
  configuration {{ plugins(include: $ids) }}
}}
"""


def _scenes_by_ids(argument: str, id_type: str, fields: str) -> str:
    return f"""
query PlexSyncScenesByIds($ids: [{id_type}!]) {{
  findScenes({argument}: $ids, filter: {{per_page: -1}}) {{ count scenes {{ {fields} }} }}
}}
"""


def _scenes_page(fields: str) -> str:
    return f"""
query PlexSyncScenesPage($filter: FindFilterType, $scene_filter: SceneFilterType) {{
  findScenes(filter: $filter, scene_filter: $scene_filter) {{ count scenes {{ {fields} }} }}
}}
"""


PLUGIN_SETTINGS = _plugin_settings("ID")
SCENES_BY_IDS = _scenes_by_ids("ids", "ID", SCENE_FIELDS)
SCENES_PAGE = _scenes_page(SCENE_FIELDS)

SCENE_IDS_PAGE = """
query PlexSyncSceneIds($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id } }
}
"""

# The names people know scenes by (Stash shows the file's name when a scene has no title), for the few scenes
# Queue Status and a task's summary name: one request for all of them (worker.stash.titles).
SCENE_TITLES = """
query PlexSyncSceneTitles($ids: [ID!]) {
  findScenes(ids: $ids, filter: {per_page: -1}) { scenes { id title files { basename } } }
}
"""

ALL_DOCUMENTS = {
    "VERSION": VERSION,
    "PLUGIN_SETTINGS": PLUGIN_SETTINGS,
    "SCENES_BY_IDS": SCENES_BY_IDS,
    "SCENES_PAGE": SCENES_PAGE,
    "SCENE_IDS_PAGE": SCENE_IDS_PAGE,
    "SCENE_TITLES": SCENE_TITLES,
}


@dataclass(frozen=True)
class Documents:
    """The documents one Stash release takes, and how its arguments are shaped."""

    plugin_settings: str
    scenes_by_ids: str
    scenes_page: str
    numeric_ids: bool  # findScenes(scene_ids: [Int!]) before v0.25
    group_filter: tuple[str, int | None]  # SceneFilterType field and depth for "scenes of this group"

    def as_dict(self) -> dict[str, str]:
        return {"PLUGIN_SETTINGS": self.plugin_settings, "SCENES_BY_IDS": self.scenes_by_ids,
                "SCENES_PAGE": self.scenes_page, "SCENE_IDS_PAGE": SCENE_IDS_PAGE, "VERSION": VERSION}


@lru_cache(maxsize=None)
def documents(*, groups: bool, id_arguments: bool) -> Documents:
    fields = SCENE_FIELDS if groups else _scene_fields(MOVIES_AS_GROUPS)
    return Documents(
        plugin_settings=PLUGIN_SETTINGS if id_arguments else _plugin_settings("String"),
        scenes_by_ids=_scenes_by_ids(*(("ids", "ID") if id_arguments else ("scene_ids", "Int")), fields),
        scenes_page=SCENES_PAGE if groups else _scenes_page(fields),
        numeric_ids=not id_arguments,
        group_filter=("groups", 0) if groups else ("movies", None),  # movies: a MultiCriterionInput (no depth)
    )


def documents_for(features) -> Documents:
    """For a ``worker.stash.versions.StashFeatures``."""
    return documents(groups=features.groups, id_arguments=features.id_arguments)
