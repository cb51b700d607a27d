"""A small, realistic library for the demo, the end-to-end tests and the benchmarks.

Stash sees the files under ``/data/videos`` (its Docker mount); Plex sees the same files under
``/media/stash`` (a different mount), so matching needs the path map, as on most home servers.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

STASH_ROOT = "/data/videos"
PLEX_ROOT = "/media/stash"
PATH_MAP = f"{STASH_ROOT}={PLEX_ROOT}"
PLEX_TOKEN = "demo-plex-token-7f3a9c"


def tiny_png(seed: int) -> bytes:
    """A valid 2×2 PNG whose colour depends on ``seed`` (distinct covers, distinct hashes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    r, g, b = (seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256
    raw = b"".join(b"\x00" + bytes([r, g, b]) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@dataclass
class DemoScene:
    relative_path: str
    size: int
    title: str | None
    date: str | None = None
    details: str | None = None
    code: str | None = None
    director: str | None = None
    rating100: int | None = None
    studio: str | None = None
    performers: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def stash_path(self) -> str:
        return f"{STASH_ROOT}/{self.relative_path}"

    @property
    def plex_path(self) -> str:
        return f"{PLEX_ROOT}/{self.relative_path}"


STUDIOS = {"Brightline": None, "Brightline Europe": "Brightline", "Café Lumière": None}
PERFORMERS = {"Ava Stone": None, "Mia Chen": None, "Mia Chen (Berlin)": "Berlin", "Zoë Ålund": None}
SCENES = [
    DemoScene("Brightline/2024-03-02 Harbour Lights.mp4", 1_204_000_111, "Harbour Lights", "2024-03-02",
              "Two friends meet at the harbour.\n\nA quiet evening turns into a long night.", "BL-0412",
              "Jon Park", 80, "Brightline", ["Ava Stone", "Mia Chen"], ["Outdoor", "Evening", "Romance"]),
    DemoScene("Brightline Europe/Paris Rooftop.mkv", 980_000_222, "Paris Rooftop", "2023-07", None, "BLE-77",
              None, 60, "Brightline Europe", ["Mia Chen (Berlin)"], ["Rooftop", "City"]),
    DemoScene("Café Lumière/東京 Nights.mp4", 1_530_000_333, "東京 Nights", "2022", "夜の街。", None,
              "Aiko Mori", 100, "Café Lumière", ["Zoë Ålund"], ["Night", "Neon", "Travel & Food"]),
    DemoScene("Misc/clip_0001.mp4", 55_000_444, None, None, None, None, None, None, None, [], ["Short"]),
    DemoScene("Misc/2021/clip_0002.mp4", 66_000_555, "Morning Run", "2021-05-09", "Sunrise, a park, a run.",
              None, None, 40, None, ["Ava Stone"], []),
    DemoScene("Brightline/Duplicates/Harbour Lights (alt).mp4", 1_204_999_666, "Harbour Lights (alt cut)",
              "2024-03-02", None, None, None, None, "Brightline", ["Ava Stone"], ["Outdoor"]),
]


def populate_stash(stash) -> tuple[dict[str, str], dict[str, str]]:
    """Add the demo studios, performers, tags and scenes; returns scene ids by path, performer ids by label."""
    studio_ids: dict[str, str] = {}
    for name, parent in STUDIOS.items():
        studio_ids[name] = stash.add_studio(name, parent_id=studio_ids.get(parent) if parent else None)
    performer_ids = {}
    for label, disambiguation in PERFORMERS.items():
        name = label.split(" (")[0]
        performer_ids[label] = stash.add_performer(name, disambiguation=disambiguation)
    tag_ids = {tag: stash.add_tag(tag) for scene in SCENES for tag in scene.tags}
    scene_ids = {}
    for number, scene in enumerate(SCENES, start=1):
        scene_ids[scene.relative_path] = stash.add_scene(
            title=scene.title, details=scene.details, code=scene.code, director=scene.director,
            date=scene.date, rating100=scene.rating100,
            studio_id=studio_ids.get(scene.studio) if scene.studio else None,
            performer_ids=[performer_ids[p] for p in scene.performers],
            tag_ids=[tag_ids[t] for t in scene.tags],
            files=[{"path": scene.stash_path, "size": scene.size}],
            screenshot=tiny_png(number),
        )
    return scene_ids, performer_ids


def populate_plex(plex) -> tuple[int, dict[str, int]]:
    """A Plex library that already scanned the files (titles are just file names, as Plex's own scanner
    leaves them); one user collection on the first item shows that ours never remove it."""
    section_id = plex.add_section(title="Stash Scenes", locations=[PLEX_ROOT], type="movie")
    rating_keys = {}
    for scene in SCENES:
        stem = scene.relative_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        rating_keys[scene.relative_path] = plex.add_item(section_id, file=scene.plex_path, size=scene.size, title=stem)
    first = rating_keys[SCENES[0].relative_path]
    plex.set_tags(first, "collection", ["My Favourites"])
    return section_id, rating_keys


def plugin_settings(plex_url: str, **overrides) -> dict:
    settings = {
        "plex_url": plex_url,
        "plex_token": PLEX_TOKEN,
        "path_map": PATH_MAP,
        "settle_seconds": 0,
    }
    settings.update(overrides)
    return settings
