"""Real-world titles, names and summaries synced as Stash runs PlexSync arrive in Plex byte for byte, read back
through the real plexapi client."""

from __future__ import annotations

import pytest
from plexapi.server import PlexServer

from emulators import demo_library as lib

pytestmark = pytest.mark.e2e

FLAG = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
SCENES = [  # (file name, title, summary, tag, performer, studio)
    ("family.mp4", "Family 👨\u200d👩\u200d👧 Day", "👨\u200d👩\u200d👧 at the beach.", "👍🏽 Likes",
     "Zoë ❤\ufe0f", "Studio 🇩🇪"),
    ("persian.mp4", "می\u200cخواهم", "او می\u200cخواهد\n\tبرود.", "فارسی\u200c", "نگار", "استودیو"),
    ("hebrew.mp4", "שלום\u200f 2024 \u2067עולם\u2069", "\u200fשורה אחת\n\u200fשורה שתיים", "עברית",
     "דנה\u200f", "\u0600\u0661 \u06dd"),
    ("flag.mp4", f"England {FLAG}", f"{FLAG} flag.", FLAG, "क\u093fरण", "\u1112\u1161\u11ab Studio"),
    ("kanji.mp4", "東京\u3000物語 \uf900", "\uf900 is not \u8c48.", "\uf900", "東京\u3000花子", "東京\u3000撮影"),
    ("french.mp4", "«\u202fOui\u202f»", "Il a dit\u202f: «\u202fOui\u202f».", "Très\u00a0bien", "Élodie",
     "Café\u202fNoir"),
    ("indented.mp4", "Indented", "Cast:\n\tAna\n\t\tstand-in\n\n\nCredits\u3000end", "Tabs", "Ana", "Indie"),
]


@pytest.fixture()
def scenes(harness):
    section_id = harness.plex.add_section(title="Stash Scenes", locations=[lib.PLEX_ROOT], type="movie")
    rating_keys = []
    for number, (file_name, title, summary, tag, performer, studio) in enumerate(SCENES, start=1):
        harness.stash.add_scene(
            title=title, details=summary, studio_id=harness.stash.add_studio(studio),
            performer_ids=[harness.stash.add_performer(performer)], tag_ids=[harness.stash.add_tag(tag)],
            files=[{"path": f"{lib.STASH_ROOT}/{file_name}", "size": number}], screenshot=lib.tiny_png(number))
        rating_keys.append(harness.plex.add_item(section_id, file=f"{lib.PLEX_ROOT}/{file_name}", size=number,
                                                 title=file_name))
    return rating_keys


def test_real_world_text_arrives_byte_identical(harness, scenes):
    result = harness.task("Sync All Scenes")
    assert result.error is None and result.output["succeeded"] == len(SCENES), result.output
    plex = PlexServer(harness.plex.url, lib.PLEX_TOKEN, timeout=10)
    for rating_key, (_, title, summary, tag, performer, studio) in zip(scenes, SCENES):
        item = plex.fetchItem(rating_key)
        assert item.title.encode() == title.encode()
        assert item.summary.encode() == summary.encode()
        assert item.studio.encode() == studio.encode()
        assert [genre.tag.encode() for genre in item.genres] == [tag.encode()]
        assert [actor.tag.encode() for actor in item.actors] == [performer.encode()]
        assert [collection.tag.encode() for collection in item.collections] == [studio.encode()]
