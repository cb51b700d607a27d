"""A model-based test of the index: whatever Plex does, even between two pages of a listing, the REAL refresh
keeps the index true to Plex, and no write reaches an item that does not hold the scene's file.

Hypothesis drives adds, deletes, moves, multi-part items, re-adds, our own pushes restamping and one-second
storms, with both clocks under the test's control. The index may lag only where the design allows: an item
stamped after the library's ``since_stamp`` (``worker.sync.index_refresh``), a pass that overlapped a change, and
a deleted item's rows, which may wait for the full listing."""

from __future__ import annotations

import os
import types
from typing import Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from emulators import demo_library as lib
from plex.matcher import path_key
from worker.sync import index_refresh as index_sync
from worker.sync.engine import SyncEngine
from validation.clocks import CLOCK_SKEW_S
from worker.sync.index_refresh import SETTLE_S, SWEEPS_KEY, refresh_index

NAMES = [f"m{n}.mp4" for n in range(12)]  # a small pool: files come back, move onto each other's names
KINDS = ("add", "add", "delete", "readd", "move", "move", "add_part", "remove_part", "push", "storm")
SETTLED_S = CLOCK_SKEW_S + SETTLE_S + 1
EXAMPLES = int(os.environ.get("PLEXSYNC_MODEL_EXAMPLES", "30"))  # ~20 s on a loaded 2-core machine
STEPS = int(os.environ.get("PLEXSYNC_MODEL_STEPS", "40"))


def plex_path(name: str) -> str:
    return f"{lib.PLEX_ROOT}/{name}"


def size_of(name: str) -> int:
    return 1000 + NAMES.index(name)


def test_the_index_mirrors_plex_whatever_plex_does_and_no_write_misses(world, monkeypatch):
    monkeypatch.setattr("plex.library_index.PAGE_SIZE", 3)  # many pages out of a dozen items
    monkeypatch.setattr("worker.sync.index_refresh.WRITE_CHUNK", 2)  # multi-part items meet chunk boundaries
    clocks = types.SimpleNamespace(plex_s=1_700_000_000, ours_s=1_700_000_000)
    world.plex.library.clock = lambda: clocks.plex_s
    monkeypatch.setattr(index_sync, "time", types.SimpleNamespace(time=lambda: clocks.ours_s))
    scenes = {name: world.stash.add_scene(files=[{"path": f"{lib.STASH_ROOT}/{name}", "size": size_of(name)}],
                                          title=f"scene {name}") for name in NAMES}
    rt = world.runtime()
    store, library, section = rt.store, world.plex.library, world.section
    token = "model-token"

    class IndexModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            library.after_listing_page = None
            with library.lock:
                library.items.clear()
                library.pending.clear()
            store.waits_table()
            with store.transaction() as conn:
                for table in ("plex_index", "scenes", "kv", "plex_index_waits"):
                    conn.execute(f"DELETE FROM {table}")
            store.acquire_lease(token, ttl_s=3600, pid=os.getpid())
            self.engine = SyncEngine(rt)
            self.changed_during_pass = False
            self.last_change_s = clocks.plex_s

        def teardown(self) -> None:
            self.engine.pushes.close()

        @initialize(skew=st.integers(-CLOCK_SKEW_S + 20, CLOCK_SKEW_S - 20),
                    files=st.lists(st.integers(1, 3), min_size=3, max_size=9), spread=st.sampled_from([0, 1, 40]))
        def a_library_indexed_once(self, skew: int, files: list[int], spread: int) -> None:
            """Plex has a library (items of one to three files, stamped ``spread`` seconds apart: 0 is a bulk
            import) that a first pass listed in full; our clock is ``skew`` seconds off Plex's."""
            clocks.ours_s = clocks.plex_s + skew
            names = iter(NAMES)
            for count in files:
                first = next(names, None)
                if first is None:
                    break
                key = library.add_item(section, plex_path(first), size_of(first), first)
                for _ in range(count - 1):
                    name = next(names, None)
                    if name is not None:
                        library.add_part(key, plex_path(name), size_of(name))
                clocks.plex_s += spread
                clocks.ours_s += spread
            self.sweep()

        # -- Plex changes ------------------------------------------------------------------------

        def live(self) -> list:
            return sorted(library.items.values(), key=lambda item: item.rating_key)

        def free_names(self) -> list[str]:
            used = {file for item in library.items.values() for file, _ in item.parts()}
            used |= {pending.file for pending in library.pending}
            return [name for name in NAMES if plex_path(name) not in used]

        def apply(self, kind: str, pick: int, among_first: int | None = None) -> None:
            """One change a user, a scan or our own push makes (inside the library lock: the emulator's handler
            may be answering a listing page on another thread), to any item or to one of the first
            ``among_first`` in the sweep's order (those a listing has just read: moving them shifts the rest)."""
            items, free = self.live(), self.free_names()
            if among_first is not None:
                items = sorted(items, key=lambda each: (each.updated_stamp, each.rating_key))[:among_first]
            item = items[pick % len(items)] if items else None
            name = free[pick % len(free)] if free else None
            if kind == "add" and name:
                library.add_item(section, plex_path(name), size_of(name), name)
            elif kind == "delete" and item:
                library.remove_item(item.rating_key)
            elif kind == "readd" and item:  # trash emptied while a share was away; the share came back
                library.remove_item(item.rating_key)
                first, *rest = item.parts()
                key = library.add_item(section, first[0], first[1], "re-added")
                for file, size in rest:
                    library.add_part(key, file, size)
            elif kind == "move" and item and name:
                old_file = item.parts()[pick % len(item.parts())][0]
                library.move_file(item.rating_key, plex_path(name), size_of(name), old_file=old_file)
                library.scan(section, None)
            elif kind == "add_part" and item and name:
                library.add_part(item.rating_key, plex_path(name), size_of(name))
            elif kind == "remove_part" and item and len(item.parts()) > 1:
                library.remove_part(item.rating_key, item.parts()[pick % len(item.parts())][0])
            elif kind == "push" and item:  # what a PUT of ours does to the item: a new updatedAt
                library.set_field(item.rating_key, "title", f"pushed {pick}")
            elif kind == "storm":  # every item stamped within one second (a bulk refresh)
                for each in items:
                    library.set_field(each.rating_key, "summary", f"storm {pick}")
            self.last_change_s = clocks.plex_s

        @rule(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6), pick=st.integers(0, 10_000),
              one_second=st.booleans())
        def plex_changes(self, kinds: list[str], pick: int, one_second: bool) -> None:
            """A few changes, a second apart or all stamped with one second (a scan's burst)."""
            for number, kind in enumerate(kinds):
                with library.lock:
                    self.apply(kind, pick + number)
                if not one_second:
                    clocks.plex_s += 1
                    clocks.ours_s += 1

        @rule(seconds=st.sampled_from([0, 1, 1, 2, 5, 30, 200]))
        def time_passes(self, seconds: int) -> None:
            clocks.plex_s += seconds
            clocks.ours_s += seconds

        # -- passes ------------------------------------------------------------------------------

        def sweep(self, full: bool = False, between_pages: Sequence[str] = (), pick: int = 0, page: int = 1) -> None:
            """One pass of the real refresh; ``between_pages``: changes Plex makes right after the listing's
            ``page``-th page, to items among those the listing has read so far."""
            self.changed_during_pass = False
            answered = []

            def hook() -> None:
                answered.append(page)
                if len(answered) == page:
                    self.changed_during_pass = True
                    for number, kind in enumerate(between_pages):
                        self.apply(kind, pick + number, among_first=3 * page)

            library.after_listing_page = hook if between_pages else None
            refresh_index(store, rt.plex, rt.sections, full=full)
            library.after_listing_page = None
            clocks.plex_s += 1
            clocks.ours_s += 1

        @rule(kind=st.sampled_from(["incremental", "settled", "full"]),
              between_pages=st.lists(st.sampled_from(KINDS), max_size=3), pick=st.integers(0, 10_000),
              page=st.integers(1, 3))
        def a_pass(self, kind: str, between_pages: list[str], pick: int, page: int) -> None:
            """An incremental pass right away, or once every change has settled, or a full listing; Plex may
            change between two of its pages."""
            if kind != "incremental":
                clocks.plex_s += SETTLED_S
                clocks.ours_s += SETTLED_S
            self.sweep(kind == "full", between_pages, pick, page)
            if kind != "incremental" and not self.changed_during_pass:
                self.assert_index_holds_every_live_item()
            if kind == "full" and not self.changed_during_pass:
                assert self.index_rows() == self.plex_rows(self.live())

        # -- writes ------------------------------------------------------------------------------

        @rule(name=st.sampled_from(NAMES), edit=st.integers(0, 10_000))
        def a_scene_is_edited_and_synced(self, name: str, edit: int) -> None:
            library.after_listing_page = None
            world.stash.update_scene(scenes[name], title=f"{name} edit {edit}")
            store.queue_scenes([int(scenes[name])])
            store.conn.execute("UPDATE scenes SET not_before = 0")
            world.plex.reset_requests()
            claims = store.claim_batch(token, 50, now_s=clocks.ours_s + 10**9)
            if claims:
                self.engine.sync_batch(token, claims)
            for request in world.plex.requests:
                if request.method == "PUT":  # the write-safety rule, at the moment of the write
                    written = library.items[int(request.param("id"))]
                    title = request.param("title.value")
                    owner = next(n for n in NAMES if title and title.startswith(f"{n} edit"))
                    assert plex_path(owner) in [file for file, _ in written.parts()], (owner, written.parts())

        # -- what must hold ----------------------------------------------------------------------

        def plex_rows(self, items) -> set[tuple[int, str, int | None]]:
            return {(item.rating_key, path_key(file), size) for item in items for file, size in item.parts()}

        def index_rows(self) -> set[tuple[int, str, int | None]]:
            return {(row[0], row[1], row[2]) for row in store.conn.execute(
                "SELECT rating_key, path_key, size FROM plex_index WHERE section_id = ?", (section,))}

        def assert_index_holds_every_live_item(self) -> None:
            live = self.live()
            rows, expected = self.index_rows(), self.plex_rows(live)
            assert expected <= rows
            keys = {item.rating_key for item in live}
            live_paths = {path for _, path, _ in expected}
            assert all(key not in keys and path not in live_paths for key, path, _ in rows - expected), \
                sorted(rows - expected)

        @invariant()
        def the_index_invariant(self) -> None:
            state = (store.get_json(SWEEPS_KEY, {}) or {}).get(str(section))
            if state is None:
                return
            with library.lock:
                before = [item for item in self.live() if item.updated_stamp < state["since_stamp"]]
                expected = self.plex_rows(before)
                paths = {path for _, path, _ in expected}
            rows = {row for row in self.index_rows() if row[0] in {item.rating_key for item in before}
                    or row[1] in paths}
            assert rows == expected, (sorted(rows ^ expected), state)

        @invariant()
        def no_scene_waits_for_a_file_the_index_has(self) -> None:
            for scene_id, keys in store.index_waits().items():
                for key in keys:
                    if key.startswith("path:"):
                        assert store.parts_by_path_key(key[5:]) == [], (scene_id, key)

    run_state_machine_as_test(IndexModel, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    rt.close()
