"""Collection posters: a studio or group collection PlexSync owns shows the studio's or group's image from Stash.

Checked after each synced scene, pushed or unchanged (a new studio image changes no scene, but the studio's
update hook re-queues its scenes), and only for collections PlexSync added (``PushRecord.added_collections``): a
collection the user made is never touched. A URL seen before costs no request (a Sync All of 1,000 scenes of one
studio costs nothing); Stash's ``?t=`` moves when the studio is edited, so a new URL is one download per run, and
an upload happens only when the bytes changed. Nothing here ever fails the scene. An upload Plex refuses (404 from a
server without the route, 413 from a proxy's body limit) is tried again a day later, or when the image changes in
Stash: one try per collection, not one per scene of it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Mapping

from plex.collections import collection_keys, upload_collection_poster
from plex.errors import PlexItemGone, PlexRejected, PlexSyncError
from plex.images import image_problem, refusal_reason
from plex.metadata_writer import PushRecord
from sync_queue.ledgers.collection_posters import ensure_table, failed_upload, poster_state, record_failed_upload, record_poster
from validation.metadata_extras import collection_name, scene_groups, studio_and_parent
from validation.stash_log import get_logger
from worker.stash.reader import CoverUnusable, StashError

log = get_logger("collection_art")

RETRY_REFUSED_AFTER_S = 24 * 3600  # a poster Plex refused is tried again once a day


def collection_images(scene: Mapping[str, Any]) -> dict[str, str]:
    """Collection title → Stash image URL for the scene's studio, parent studio and groups (named as
    ``validation.metadata`` names their collections); objects without an image (``default=true``) are left out."""
    sources = [(studio, "image_path") for studio in studio_and_parent(scene.get("studio"))]
    sources += [(group, "front_image_path") for group in scene_groups(scene.get("groups"))]
    images: dict[str, str] = {}
    for stash_object, image_field in sources:
        name, url = collection_name(stash_object), stash_object.get(image_field)
        if name and isinstance(url, str) and url and "default=true" not in url:
            images.setdefault(name, url)
    return images


class CollectionPosters:
    """One run's poster checks (downloads and collection listings are remembered for the run)."""

    def __init__(self, runtime: Any, clock: Callable[[], float] = time.time) -> None:
        self.rt = runtime
        self.clock = clock
        self.enabled = runtime.config.sync_collections and not runtime.config.skip_collection_posters
        self._images: dict[str, bytes | None] = {}  # Stash URL → bytes (None: unusable, said once)
        self._keys: dict[int, dict[str, int]] = {}  # library → collection title (folded) → ratingKey
        self._relisted: set[tuple[int, str]] = set()
        self._table_ready = False

    def after_scene(self, scene: Mapping[str, Any], record_json: str | None, section_id: int | None) -> None:
        """Bring the posters of the scene's owned studio/group collections up to date; never raises."""
        if not self.enabled or not record_json or section_id is None:
            return
        owned = {name.casefold() for name in PushRecord.from_json(record_json).added_collections}
        for title, url in collection_images(scene).items():
            if title.casefold() not in owned:
                continue
            try:
                self._bring_up_to_date(int(section_id), title, url)
            except (PlexSyncError, StashError) as exc:
                log.warning("Collection %r: poster not updated (%s); tried again with its next scene", title, exc)

    def _bring_up_to_date(self, section_id: int, title: str, url: str) -> None:
        if not self._table_ready:
            ensure_table(self.rt.store)
            self._table_ready = True
        state = poster_state(self.rt.store, section_id, title)
        if state is not None and state.source_url == url:
            return
        refused = failed_upload(self.rt.store, section_id, title)
        if refused is not None and refused.source_url == url and \
                0 <= self.clock() - refused.failed_at_s < RETRY_REFUSED_AFTER_S:
            return  # said when it was refused; tried again a day later
        data = self._image(url, title)
        if data is None:
            return
        digest = hashlib.sha1(data).hexdigest()
        if state is not None and state.digest == digest:
            record_poster(self.rt.store, section_id, title, url, digest, None)
            return
        rating_key = self._collection_key(section_id, title)
        if rating_key is None:
            log.debug("Collection %r is not listed by Plex yet; its poster follows with a later scene", title)
            return
        try:
            upload_collection_poster(self.rt.plex, section_id, rating_key, data)
        except (PlexRejected, PlexItemGone) as exc:
            reason = (refusal_reason(exc, len(data)).replace("cover", "image") if isinstance(exc, PlexRejected)
                      else "Plex answered 404 (a Plex server without poster uploads for collections, or the "
                           "collection was removed)")
            record_failed_upload(self.rt.store, section_id, title, url, reason, self.clock())
            log.warning("Collection %r: poster not uploaded: %s; tried again in a day, or when the image changes "
                        "in Stash", title, reason)
            return
        record_poster(self.rt.store, section_id, title, url, digest, rating_key)
        log.info("Collection %r: poster uploaded from Stash", title)

    def _image(self, url: str, title: str) -> bytes | None:
        if url not in self._images:
            data: bytes | None
            try:
                data = self.rt.stash.download_image(url)
                problem = image_problem(data)
            except CoverUnusable as exc:
                data, problem = None, str(exc)
            if problem is not None:
                log.warning("Collection %r: poster left out: %s", title, problem.replace("cover", "image"))
                data = None
            self._images[url] = data
        return self._images[url]

    def _collection_key(self, section_id: int, title: str) -> int | None:
        """Listed once per run; listed again when a collection is missing (a push of this run created it)."""
        keys = self._keys.get(section_id)
        if keys is None or (title.casefold() not in keys and (section_id, title.casefold()) not in self._relisted):
            if keys is not None:
                self._relisted.add((section_id, title.casefold()))
            keys = self._keys[section_id] = collection_keys(self.rt.plex, section_id)
        return keys.get(title.casefold())
