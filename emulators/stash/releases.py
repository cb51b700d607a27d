"""The Stash releases the emulator can present itself as: a version (``version { version hash build_time }``),
that release's GraphQL schema, and the route of its group images.

graphql-core validates every query against the release's schema, so a query that release would refuse is answered
422, as Stash's gqlgen server does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class StashRelease:
    version: str
    hash: str
    build_time: str
    schema_files: tuple[Path, ...]
    group_route: str  # "group" (v0.27+) or "movie": where a group's front image is served

    def schema_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8") for path in self.schema_files)


def _release_files(folder: Path) -> tuple[Path, ...]:
    return (folder / "schema.graphql", *sorted((folder / "types").glob("*.graphql")))


# The newest and the default: ``schema.graphql``, a subset of Stash's schema checked name by name against the real
# one (tests/emulators/test_schema_fidelity.py).
NEWEST = StashRelease("v0.30.1", "cf3489e1a", "2026-01-11", (HERE / "schema.graphql",), "group")
# The oldest PlexSync supports: Stash's own schema files of that tag, unmodified (``schemas/v0.24.3``, see its
# README for the commit). Groups are movies there (``Scene.movies``, the ``/movie/<id>/frontimage`` route:
# ``internal/api/server.go``, ``urlbuilders/movie.go`` at that tag); no play history, no ``runPluginOperation``,
# ``findScenes(scene_ids: [Int!])``.
OLDEST = StashRelease("v0.24.3", "aeb68a585", "2024-01-15", _release_files(HERE / "schemas" / "v0.24.3"),
                      "movie")
RELEASES = {release.version: release for release in (NEWEST, OLDEST)}
