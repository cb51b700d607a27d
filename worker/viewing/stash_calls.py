"""What the play import asks of Stash: scenes' play history, adding plays, setting the resume point.

Stash takes ``Timestamp`` input as RFC3339 with an offset and answers ``Time`` in its own local offset, so plays
compare as instants (epoch seconds), never as text.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Iterable

from worker.stash.reader import StashReader
from worker.stash.versions import PLAY_HISTORY

IDS_PER_REQUEST = 200

SCENE_PLAYS = """
query PlexSyncScenePlays($ids: [ID!]) {
  findScenes(ids: $ids, filter: {per_page: -1}) { count scenes { id play_count play_history resume_time } }
}
"""

ADD_PLAYS = """
mutation PlexSyncAddPlays($id: ID!, $times: [Timestamp!]) {
  sceneAddPlay(id: $id, times: $times) { count }
}
"""

SAVE_RESUME = """
mutation PlexSyncSaveResume($id: ID!, $resume_time: Float) {
  sceneSaveActivity(id: $id, resume_time: $resume_time)
}
"""

PLAY_DOCUMENTS = {"SCENE_PLAYS": SCENE_PLAYS, "ADD_PLAYS": ADD_PLAYS, "SAVE_RESUME": SAVE_RESUME}


def require_play_history(stash: StashReader) -> None:
    """Stash keeps a scene's plays (``play_history``, ``sceneAddPlay``) from v0.25.0: raise StashTooOld before."""
    stash.require(PLAY_HISTORY, "Importing plays from Plex (Stash's play history)")


def timestamp_text(stamp: int) -> str:
    return datetime.fromtimestamp(int(stamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(time_text: str) -> int:
    return int(datetime.fromisoformat(time_text.replace("Z", "+00:00")).timestamp())


def scene_play_times(stash: StashReader, scene_ids: Iterable[int]) -> dict[int, Counter[int]]:
    """Scene id → how many plays Stash has at each second; scenes Stash no longer has are absent."""
    wanted = [str(int(scene_id)) for scene_id in scene_ids]
    found: dict[int, Counter[int]] = {}
    for start in range(0, len(wanted), IDS_PER_REQUEST):
        chunk = wanted[start:start + IDS_PER_REQUEST]
        for scene in stash.call(SCENE_PLAYS, {"ids": chunk})["findScenes"]["scenes"]:
            found[int(scene["id"])] = Counter(epoch_of(text) for text in scene["play_history"] or [])
    return found


def add_plays(stash: StashReader, scene_id: int, play_stamps: Iterable[int]) -> int:
    """One ``sceneAddPlay`` with every time (Stash applies it in one transaction); the scene's new count."""
    times = [timestamp_text(stamp) for stamp in play_stamps]
    return int(stash.call(ADD_PLAYS, {"id": str(scene_id), "times": times})["sceneAddPlay"]["count"])


def save_resume(stash: StashReader, scene_id: int, resume_s: float) -> None:
    """Set the resume point only (``playDuration`` left out: Stash would add it to the time watched)."""
    stash.call(SAVE_RESUME, {"id": str(scene_id), "resume_time": float(resume_s)})
