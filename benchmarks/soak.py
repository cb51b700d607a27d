"""A compressed month of unattended running, against the emulators. Prints figures; asserts nothing.

    python benchmarks/soak.py                       # 30 "days" of ~6 s each, 400 scenes (~5 minutes)
    python benchmarks/soak.py --days 60 --scenes 2000

Every "day": bursts of scene edits fired as real hook processes (the way Stash runs them), and at random
a Plex restart (refused, then slow, then fine), a rejected token that the user fixes a while later (then
runs Health Check), a SIGKILL of the detached worker, and a Reconcile (a full library listing). At the
end Plex is healthy again, Process Queue runs once, and the soak checks that every scene's latest Stash
title is in Plex. Per day it prints events in, scenes synced, dead letters, the worker's resident memory
and the store's size: both should stay flat.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emulators import demo_library as lib  # noqa: E402
from emulators.plex.server import PlexEmulator  # noqa: E402
from emulators.plugin_runner import PluginRunner  # noqa: E402
from emulators.stash.server import StashEmulator  # noqa: E402


def build_library(stash: StashEmulator, plex: PlexEmulator, count: int) -> dict[str, int]:
    section = plex.add_section(title="Soak", locations=[lib.PLEX_ROOT], type="movie")
    tags = [stash.add_tag(f"Tag {n}") for n in range(20)]
    keys = {}
    for n in range(count):
        path = f"soak/{n // 200}/scene_{n:05d}.mp4"
        key = plex.add_item(section, file=f"{lib.PLEX_ROOT}/{path}", size=5_000 + n, title=f"scene_{n:05d}")
        scene_id = stash.add_scene(title=f"Soak scene {n}", tag_ids=tags[n % 15:n % 15 + 3],
                                   files=[{"path": f"{lib.STASH_ROOT}/{path}", "size": 5_000 + n}])
        keys[scene_id] = key
    return keys


def db_path(data_dir: Path) -> Path:
    return next(data_dir.rglob("plexsync.db"))


def lease_pid(data_dir: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{db_path(data_dir)}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT pid, expires_at FROM lease").fetchone()
    except (StopIteration, sqlite3.Error):
        return None
    return int(row[0]) if row and row[0] and row[1] > time.time() else None


def resident_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def store_kib(data_dir: Path) -> float:
    return round(sum(p.stat().st_size for p in data_dir.rglob("plexsync.db*") if p.is_file()) / 1024, 1)


class Soak:
    def __init__(self, args: argparse.Namespace, stash: StashEmulator, plex: PlexEmulator, data_dir: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.stash, self.plex, self.data_dir = stash, plex, data_dir
        self.runner = PluginRunner(REPO, stash.server_connection(data_dir=str(data_dir), plugin_dir=str(REPO)))
        self.keys = build_library(stash, plex, args.scenes)
        self.latest: dict[str, str] = {}
        self.counts = {"events_in": 0, "hook_errors": 0, "plex_restarts": 0, "token_rejections": 0,
                       "worker_kills": 0, "reconciles": 0}
        self.hook_ms: list[float] = []

    def edit_burst(self) -> None:
        for scene_id in self.rng.sample(sorted(self.keys), k=min(len(self.keys), self.args.burst)):
            title = f"Soak scene {scene_id} v{self.rng.randrange(10**6)}"
            self.stash.update_scene(scene_id, title=title)
            result = self.runner.run_hook("Scene.Update.Post", int(scene_id), input={"title": title})
            self.counts["events_in"] += 1
            self.hook_ms.append(result.elapsed_s * 1000)
            if result.error:
                self.counts["hook_errors"] += 1
            else:
                self.latest[scene_id] = title

    def plex_restart(self) -> None:
        self.counts["plex_restarts"] += 1
        self.plex.go_down()
        self.edit_burst()  # edits keep coming while Plex is away
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.plex.come_up()
        self.plex.delay(r".", 0.3, times=20)  # slow while it warms up

    def token_rejected_then_fixed(self) -> None:
        self.counts["token_rejections"] += 1
        self.plex.token = "rotated-" + lib.PLEX_TOKEN
        self.edit_burst()
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.plex.token = lib.PLEX_TOKEN
        self.runner.run_task("Health Check")  # what the warning tells the user to do

    def kill_worker(self) -> None:
        pid = lease_pid(self.data_dir)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                self.counts["worker_kills"] += 1
            except ProcessLookupError:
                pass

    def day(self, number: int) -> dict:
        started_mono_s = time.monotonic()
        worker_rss: list[float] = []
        while time.monotonic() - started_mono_s < self.args.day_seconds:
            roll = self.rng.random()
            if roll < 0.06:
                self.plex_restart()
            elif roll < 0.10:
                self.token_rejected_then_fixed()
            elif roll < 0.16:
                self.kill_worker()
            self.edit_burst()
            rss = resident_mb(lease_pid(self.data_dir))
            if rss is not None:
                worker_rss.append(rss)
            time.sleep(self.rng.uniform(0.1, 0.6))
        self.runner.run_task("Reconcile Library")
        self.counts["reconciles"] += 1
        status = self.runner.run_task("Queue Status").output or {}
        return {"day": number, "events_in": self.counts["events_in"], "synced": status.get("synced"),
                "pending": status.get("pending"), "dead": status.get("dead"),
                "worker_peak_rss_mb": max(worker_rss, default=None), "store_kib": store_kib(self.data_dir)}

    def settle(self) -> dict:
        self.plex.clear_faults()
        self.runner.run_task("Health Check")
        self.runner.run_task("Process Queue", timeout=1800)
        missing = [sid for sid, title in self.latest.items()
                   if self.plex.item(self.keys[sid]).fields.get("title") != title]
        status = self.runner.run_task("Queue Status").output or {}
        return {"scenes_edited": len(self.latest), "latest_title_missing_in_plex": len(missing),
                "missing_examples": missing[:5], "final_dead": status.get("dead"), "final_pending": status.get("pending")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--day-seconds", type=float, default=6.0)
    parser.add_argument("--scenes", type=int, default=400)
    parser.add_argument("--burst", type=int, default=5, help="edits per burst")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="use this data folder and keep it (to look inside the store)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory(prefix="plexsync-soak-")) as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, settle_seconds=1))
        soak = Soak(args, stash, plex, Path(tmp))
        soak.runner.run_task("Sync All Scenes", timeout=1800)
        days = []
        for number in range(1, args.days + 1):
            days.append(soak.day(number))
            print(json.dumps(days[-1]), flush=True)
        times = sorted(soak.hook_ms)
        hooks = {"median_ms": round(times[len(times) // 2], 1), "p99_ms": round(times[int(len(times) * 0.99)], 1),
                 "max_ms": round(times[-1], 1)} if times else {}
        print(json.dumps({"totals": soak.counts, "hooks": hooks, "end": soak.settle()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
