"""SIGKILL at random points (Stash's only way to stop a plugin) loses nothing and leaves nothing stuck.

Every kill here is proved to have landed in the middle of real work: the process was still running
(a task's exit status is -9), it died holding the lease (no clean exit released it), and the store shows
the phase it was in — intake rows taken but not acked (absorbing), claims it held (mid-batch), or scenes it synced in
that same run (partial progress). A kill that misses its phase is retried a bounded number of times, and
the test fails if it never lands, so nothing passes vacuously. Plex answers slowly (a per-request delay on
the metadata PUT) so a drain spans several batches.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from emulators import demo_library as lib
from hooks.intake import event_from_hook
from sync_queue import schema
from sync_queue.intake.processes import pid_alive
from sync_queue.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")]

PUT_EDITS = r"^/library/sections/\d+/all$"
INTAKE_TABLE = f"`ack_queue_{schema.INTAKE_NAME}`"  # persist-queue's table in the same file
UNACK, ACKED = 2, 5  # persist-queue's AckStatus: taken by a consumer / done
FILLER = 800  # hook events that change nothing (deleted scenes we never knew): they make absorbing take a while
FILLER_BASE_ID = 900_000
KILL_ATTEMPTS = 4  # a kill that misses its phase is retried this often, then the test fails
PHASE_TIMEOUT = 45.0


# -- the store as the test sees it (read only, one snapshot) ----------------------------------

@dataclass(frozen=True)
class DbState:
    lease_token: str | None = None
    lease_pid: int | None = None
    wake_port: int | None = None
    lease_acquired_at: float = 0.0
    claims: dict[str, int] = field(default_factory=dict)  # claim token -> scenes it holds
    synced: int = 0
    newest_sync_at: float = 0.0  # when the last scene was recorded synced (tells whose run synced it)
    intake: dict[int, int] = field(default_factory=dict)  # persist-queue status -> rows
    unacked_max_id: int = 0  # newest intake row taken and not acked (tells a dead holder's rows from new ones)

    def claimed_by(self, token: str | None) -> int:
        return self.claims.get(token, 0) if token else 0

    @property
    def unacked(self) -> int:
        """Intake rows a consumer took and has not acked: what a kill during absorbing leaves behind."""
        return self.intake.get(UNACK, 0)

    @property
    def ready(self) -> int:
        return sum(count for status, count in self.intake.items() if status < UNACK)

    @property
    def live_intake(self) -> int:
        return sum(count for status, count in self.intake.items() if status < ACKED)


def db_state(data_dir: Path) -> DbState:
    path = data_dir / schema.DB_FILE
    if not path.exists():
        return DbState()
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one read snapshot
        try:
            lease = conn.execute("SELECT token, pid, wake_port, acquired_at FROM lease "
                                 "WHERE name = 'worker'").fetchone()
            claims = dict(conn.execute("SELECT claim_token, COUNT(*) FROM scenes WHERE claim_token IS NOT NULL "
                                       "GROUP BY claim_token").fetchall())
            synced = conn.execute(f"SELECT COUNT(*) FROM scenes WHERE status = 'synced' "
                                  f"AND NOT ({schema.PENDING})").fetchone()[0]
            newest_sync_at = conn.execute("SELECT MAX(synced_at) FROM scenes").fetchone()[0] or 0.0
        except sqlite3.OperationalError:  # no schema yet
            return DbState()
        try:
            intake = {int(status): count for status, count in
                      conn.execute(f"SELECT status, COUNT(*) FROM {INTAKE_TABLE} GROUP BY status").fetchall()}
            unacked_max_id = conn.execute(f"SELECT MAX(_id) FROM {INTAKE_TABLE} WHERE status = ?",
                                          (UNACK,)).fetchone()[0] or 0
        except sqlite3.OperationalError:  # nobody touched the intake yet
            intake, unacked_max_id = {}, 0
        conn.execute("COMMIT")
    finally:
        conn.close()
    token, pid, port, acquired_at = lease if lease is not None else (None, None, None, 0.0)
    return DbState(token, pid, port, acquired_at, claims, int(synced), float(newest_sync_at), intake,
                   int(unacked_max_id))


def synced_by_holder(state: DbState) -> bool:
    """The lease holder in ``state`` recorded a scene synced since it took the lease (partial progress)."""
    return state.lease_token is not None and state.newest_sync_at >= state.lease_acquired_at


def accounted_scene_ids(data_dir: Path) -> set[int]:
    """Scenes the store still carries: synced, pending, or named by a hook event not acked yet."""
    conn = sqlite3.connect(f"file:{data_dir / schema.DB_FILE}?mode=rw", uri=True, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN")
        ids = {row[0] for row in conn.execute(f"SELECT scene_id FROM scenes WHERE status = 'synced' "
                                              f"OR ({schema.PENDING})")}
        for (data,) in conn.execute(f"SELECT data FROM {INTAKE_TABLE} WHERE status < ?", (ACKED,)):
            event = json.loads(data)
            if event.get("kind") == "scene":
                ids.add(int(event["id"]))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return ids


def poll(data_dir: Path, condition: Callable[[DbState], bool], *, timeout: float,
         alive: Callable[[], bool] = lambda: True) -> DbState | None:
    """The first snapshot that meets ``condition``; None if ``alive()`` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = db_state(data_dir)
        if condition(state):
            return state
        if not alive():
            return None
        time.sleep(0.005)
    return None


def append_events(harness, events: list[dict]) -> None:
    """Hook events written exactly as the hook writes them (``Store.append_event``), without paying a
    Python start-up per event: a bulk edit of thousands of scenes is one hook run per scene in Stash."""
    with Store(harness.data_dir) as store:
        for event in events:
            store.append_event(event)


def scene_event(scene_id) -> dict:
    return event_from_hook({"type": "Scene.Update.Post", "id": int(scene_id)})


def filler_events(start: int) -> list[dict]:
    return [event_from_hook({"type": "Scene.Destroy.Post", "id": FILLER_BASE_ID + start + n}) for n in range(FILLER)]


def build_library(harness, count: int) -> dict[str, int]:
    section = harness.plex.add_section(title="Kill", locations=[lib.PLEX_ROOT], type="movie")
    keys = {}
    for n in range(count):
        key = harness.plex.add_item(section, file=f"{lib.PLEX_ROOT}/k{n}.mp4", size=500 + n, title=f"k{n}")
        scene_id = harness.stash.add_scene(title=f"Killed {n}", files=[{"path": f"{lib.STASH_ROOT}/k{n}.mp4",
                                                                          "size": 500 + n}])
        keys[scene_id] = key
    return keys


def assert_all_synced_and_nothing_left(harness, keys: dict[str, int]) -> None:
    status = harness.status()
    assert (status["synced"], status["pending"], status["in_progress"], status["dead"], status["skipped"],
            status["intake"], status["fanout_pending"]) == (len(keys), 0, 0, 0, 0, 0, 0), status
    state = db_state(harness.data_dir)
    assert state.claims == {}, state  # no claim left behind by any killed holder
    assert state.live_intake == 0, state  # every hook event absorbed and acked, none stuck 'taken'
    wrong = {sid: (harness.plex.item(key).fields.get("title"), harness.stash.scene(sid)["title"])
             for sid, key in keys.items()
             if harness.plex.item(key).fields.get("title") != harness.stash.scene(sid)["title"]}
    assert wrong == {}, f"Plex titles differ from Stash (plex, stash): {wrong}"


@dataclass
class Kill:
    mode: str
    attempt: int
    pid: int
    exit_code: int | None
    synced_before: int
    synced_after: int
    progressed: bool  # the killed holder had already recorded scenes synced in its own run
    claims_left: int  # claims it held when it died (killed mid-batch)
    unacked_left: int  # intake rows it had taken and not acked (killed while absorbing)
    seconds: float
    landed: bool = False


# -- (a) the foreground task: Process Queue killed the way Stash's Cancel does --------------------

TASK_SCENES = 300  # six batches of 50: every run has batches left to be killed in
TASK_PUT_DELAY = 0.1  # a batch (50 pushes, 4 at a time) takes >= 1.3 s


def kill_process_queue(harness, mode: str, rng: random.Random, filler_sets: list[int]) -> Kill:
    """Start Process Queue, wait for ``mode``'s phase, SIGKILL it there (retrying a miss), and prove it."""
    data_dir = harness.data_dir
    for attempt in range(1, KILL_ATTEMPTS + 1):
        if mode == "absorbing" and db_state(data_dir).ready < FILLER // 2:
            append_events(harness, filler_events(sum(filler_sets)))  # a fresh burst to be absorbing
            filler_sets.append(FILLER)
        before = db_state(data_dir)
        stale = before.unacked_max_id if before.unacked else 0  # rows an earlier holder took (resumed first)
        running = harness.runner.start_task("Process Queue")
        started = time.monotonic()

        def mine(state: DbState, pid=running.pid) -> bool:
            return state.lease_pid == pid

        def alive() -> bool:
            return running.process.poll() is None

        if mode == "absorbing":  # it took hook events off the intake and has not acked them
            phase = lambda s: mine(s) and s.unacked > 0 and s.unacked_max_id > stale  # noqa: E731
            pause = rng.uniform(0.0, 0.05)
        elif mode == "claimed":  # mid-batch: it holds claims
            phase = lambda s: mine(s) and s.claimed_by(s.lease_token) > 0  # noqa: E731
            pause = rng.uniform(0.0, 0.5)
        elif mode == "progressed":  # this run already synced a batch and is on the next one
            phase = lambda s: mine(s) and synced_by_holder(s)  # noqa: E731
            pause = rng.uniform(0.0, 0.3)
        else:  # anywhere at all, start-up included
            phase, pause = (lambda s: True), rng.uniform(0.1, 2.5)
        reached = poll(data_dir, phase, timeout=PHASE_TIMEOUT, alive=alive)
        if reached is not None:
            time.sleep(pause)
        was_running = alive()
        running.kill()
        result = running.wait(timeout=60)
        after = db_state(data_dir)
        kill = Kill(mode, attempt, running.pid, result.exit_code, before.synced, after.synced,
                    mine(after) and synced_by_holder(after), after.claimed_by(after.lease_token) if mine(after) else 0,
                    after.unacked if after.unacked_max_id > stale else 0, round(time.monotonic() - started, 2))
        kill.landed = reached is not None and was_running and result.exit_code == -signal.SIGKILL
        if mode != "anywhere":  # it died holding the lease: the kill ended it, not a clean exit
            kill.landed = kill.landed and mine(after)
        if mode == "absorbing":
            kill.landed = kill.landed and kill.unacked_left > 0
        elif mode == "claimed":
            kill.landed = kill.landed and kill.claims_left > 0
        elif mode == "progressed":
            kill.landed = kill.landed and kill.progressed
        if kill.landed:
            return kill
    pytest.fail(f"the {mode!r} kill never landed in its phase in {KILL_ATTEMPTS} tries (last: {kill})")


def test_sigkill_of_a_draining_task_at_random_points_loses_nothing(harness):
    keys = build_library(harness, TASK_SCENES)
    scene_ids = list(keys)
    # A settle window far beyond the worker's idle horizon: the worker a hook starts absorbs and exits.
    harness.settings(settle_seconds=3600, skip_fields="poster, background")
    for scene_id in scene_ids[:3]:
        result = harness.runner.run_hook("Scene.Update.Post", int(scene_id), input=None)
        assert result.error is None and result.output["queued"] == "scene"
    deadline = time.time() + 60
    status = harness.status()
    while time.time() < deadline and (status["worker_running"] or status["intake"]):
        time.sleep(0.1)
        status = harness.status()
    assert (status["worker_running"], status["pending"], status["synced"]) == (False, 3, 0), status
    # The rest of a bulk edit: one event per scene (losing one loses that scene), then events that change
    # nothing but make absorbing take long enough to be killed in.
    filler_sets = [FILLER]
    append_events(harness, [scene_event(sid) for sid in scene_ids[3:]] + filler_events(0))
    assert harness.status()["pending"] == TASK_SCENES

    harness.plex.delay(PUT_EDITS, TASK_PUT_DELAY, method="PUT")
    rng = random.Random(7)
    later = ["claimed", "progressed", "anywhere", "claimed", "progressed"]
    rng.shuffle(later)
    kills = []
    for mode in ["absorbing", *later]:  # the first run finds the burst still in the intake
        kills.append(kill_process_queue(harness, mode, rng, filler_sets))
        status = harness.status()
        assert status["in_progress"] == 0, status  # a dead holder's claims count as pending, not in progress
        assert status["pending"] + status["synced"] == TASK_SCENES and status["dead"] == 0, status
        assert accounted_scene_ids(harness.data_dir) == {int(sid) for sid in scene_ids}
    assert sum(kill.progressed for kill in kills) >= 2, kills  # killed after partial progress, mid-drain
    assert kills[0].unacked_left > 0, kills  # killed while absorbing the hook events
    assert db_state(harness.data_dir).synced < TASK_SCENES  # the kills really cut the drain short

    harness.plex.clear_faults()
    result = harness.task("Process Queue")
    assert result.error is None, result.error
    assert result.output["remaining"] == 0 and result.output["stopped"] == "idle", result.output
    assert_all_synced_and_nothing_left(harness, keys)


# -- (b) the detached worker, killed while it absorbs and drains a burst of hook events -----------

WORKER_SCENES = 80
WORKER_PUT_DELAY = 0.2  # a batch of 50 pushes, 4 at a time, takes >= 2.6 s; of 15, >= 0.8 s


def kill_worker(harness, mode: str, rng: random.Random, stale: int) -> Kill:
    """SIGKILL the lease-holding detached worker in ``mode``'s phase and say whether it landed there.

    ``stale``: the newest intake row a dead holder left taken (the new holder resumes those first)."""
    data_dir = harness.data_dir
    adopted = poll(data_dir, lambda s: bool(s.lease_pid and s.wake_port) and pid_alive(s.lease_pid),
                   timeout=PHASE_TIMEOUT)
    assert adopted is not None, "the hook's worker never adopted the lease"
    pid, token = adopted.lease_pid, adopted.lease_token
    started = time.monotonic()

    def mine(state: DbState) -> bool:
        return state.lease_token == token and state.lease_pid == pid

    if mode == "absorbing":  # it took hook events off the intake and has not acked them
        phase = lambda s: mine(s) and s.unacked > 0 and s.unacked_max_id > stale  # noqa: E731
        pause = rng.uniform(0.0, 0.05)
    elif mode == "claimed":  # mid-batch
        phase = lambda s: mine(s) and s.claimed_by(token) > 0  # noqa: E731
        pause = rng.uniform(0.0, 0.3)
    else:  # "progressed": it recorded a batch and works on the next
        phase = lambda s: mine(s) and synced_by_holder(s) and s.claimed_by(token) > 0  # noqa: E731
        pause = rng.uniform(0.0, 0.3)
    reached = poll(data_dir, phase, timeout=PHASE_TIMEOUT, alive=lambda: pid_alive(pid))
    if reached is not None:
        time.sleep(pause)
    was_running = pid_alive(pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        was_running = False
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pid_alive(pid), f"worker {pid} survived SIGKILL"
    after = db_state(data_dir)
    kill = Kill(mode, 0, pid, None, adopted.synced, after.synced, mine(after) and synced_by_holder(after),
                after.claimed_by(token), after.unacked if after.unacked_max_id > stale else 0,
                round(time.monotonic() - started, 2))
    kill.landed = bool(reached is not None and was_running and mine(after))  # it died holding the lease
    if mode == "absorbing":
        kill.landed = kill.landed and kill.unacked_left > 0
    elif mode == "claimed":
        kill.landed = kill.landed and kill.claims_left > 0
    else:
        kill.landed = kill.landed and kill.progressed and kill.claims_left > 0
    return kill


def test_sigkill_of_the_detached_worker_is_recovered_by_the_next_hook(harness):
    keys = build_library(harness, WORKER_SCENES)
    scene_ids = list(keys)
    harness.settings(settle_seconds=0, skip_fields="poster, background")
    Store(harness.data_dir).close()  # the schema exists before the first snapshot
    harness.plex.delay(PUT_EDITS, WORKER_PUT_DELAY, method="PUT")  # a slow Plex: draining takes a while
    rng = random.Random(11)
    modes = ["claimed", "absorbing", "progressed", "claimed", "claimed"]
    rng.shuffle(modes)
    modes = ["absorbing", *modes]  # the first worker is killed while absorbing the bulk edit's burst
    per_round = WORKER_SCENES // len(modes)
    kills, queued, fillers = [], [], 0
    for number, mode in enumerate(modes):
        fresh = scene_ids[number * per_round:(number + 1) * per_round]
        for attempt in range(1, KILL_ATTEMPTS + 1):
            # New edits (titles Plex has not seen, so each costs a real push), including scenes the last
            # killed worker may have been pushing. "progressed" edits every scene: more than one batch.
            others = [sid for sid in (scene_ids if mode == "progressed" else queued[-3:]) if sid not in fresh]
            work = fresh + others
            for sid in work:
                harness.stash.update_scene(sid, title=f"Round {number}.{attempt} scene {sid}")
            before = db_state(harness.data_dir)
            stale = before.unacked_max_id if before.unacked else 0
            burst = [scene_event(sid) for sid in work[1:]]
            if mode == "absorbing":
                burst += filler_events(fillers)
                fillers += FILLER
            append_events(harness, burst)
            queued += [sid for sid in work if sid not in queued]
            # A real hook run takes over: the killed holder's lease does not block it.
            result = harness.runner.run_hook("Scene.Update.Post", int(work[0]), input=None)
            assert result.error is None and result.output["worker"] == "started", result.output
            if mode != "absorbing":  # more hooks arrive while it drains; they only wake it
                for sid in work[1:3]:
                    result = harness.runner.run_hook("Scene.Update.Post", int(sid), input=None)
                    assert result.error is None and result.output["worker"] == "running", result.output
            kill = kill_worker(harness, mode, rng, stale)
            kill.attempt = attempt
            status = harness.status()
            assert status["worker_running"] is False and status["in_progress"] == 0, status
            assert status["dead"] == 0, status
            lost = {int(sid) for sid in queued} - accounted_scene_ids(harness.data_dir)
            assert lost == set(), f"edits lost after killing the worker: {sorted(lost)}"
            if kill.landed:
                break
        else:
            pytest.fail(f"the {mode!r} kill of round {number} never landed in {KILL_ATTEMPTS} tries: {kill}")
        kills.append(kill)
    assert [kill.mode for kill in kills].count("absorbing") == 2, kills  # killed while absorbing, twice
    assert sum(kill.progressed for kill in kills) >= 1, kills  # killed after partial progress
    assert db_state(harness.data_dir).synced < WORKER_SCENES  # the kills really cut the drain short

    # After the last kill a task takes over: it resumes what the dead worker took and finishes everything.
    harness.plex.clear_faults()
    result = harness.task("Process Queue")
    assert result.error is None, result.error
    assert result.output["remaining"] == 0 and result.output["stopped"] == "idle", result.output
    harness.wait_idle(timeout=120)
    assert_all_synced_and_nothing_left(harness, keys)
