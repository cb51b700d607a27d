"""Every GraphQL document PlexSync sends to Stash, as named constants (a test validates each against
Stash's real schema). Explicit field lists only: stashapi's default fragments change between versions."""

SCENE_FIELDS = """
    id title code details director date rating100 updated_at
    studio { id name image_path parent_studio { id name image_path } }
    performers { id name disambiguation image_path }
    tags { id name }
    groups { group { id name front_image_path } }
    files { path size }
    paths { screenshot }
"""

PLUGIN_SETTINGS = """
query PlexSyncPluginSettings($ids: [ID!]) {
  configuration { plugins(include: $ids) }
}
"""

SCENES_BY_IDS = f"""
query PlexSyncScenesByIds($ids: [ID!]) {{
  findScenes(ids: $ids, filter: {{per_page: -1}}) {{ count scenes {{ {SCENE_FIELDS} }} }}
}}
"""

SCENES_PAGE = f"""
query PlexSyncScenesPage($filter: FindFilterType, $scene_filter: SceneFilterType) {{
  findScenes(filter: $filter, scene_filter: $scene_filter) {{ count scenes {{ {SCENE_FIELDS} }} }}
}}
"""

SCENE_IDS_PAGE = """
query PlexSyncSceneIds($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id } }
}
"""

# The names people know scenes by (Stash shows the file's name when a scene has no title), for the few scenes
# Queue Status and a task's summary name: one request for all of them (worker.scene_titles).
SCENE_TITLES = """
query PlexSyncSceneTitles($ids: [ID!]) {
  findScenes(ids: $ids, filter: {per_page: -1}) { scenes { id title files { basename } } }
}
"""

ALL_DOCUMENTS = {
    "PLUGIN_SETTINGS": PLUGIN_SETTINGS,
    "SCENES_BY_IDS": SCENES_BY_IDS,
    "SCENES_PAGE": SCENES_PAGE,
    "SCENE_IDS_PAGE": SCENE_IDS_PAGE,
    "SCENE_TITLES": SCENE_TITLES,
}
