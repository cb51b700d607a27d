"""Speed and memory figures, measured end to end against the emulators. Prints figures; asserts nothing.

    python benchmarks/run.py                 # defaults sized for a 2-core machine (~1-2 minutes)
    python benchmarks/run.py --scenes 10000  # a bigger library

Targets (see README): hook median ≤ 150 ms wall for the whole process; a big library synced in minutes;
an unchanged re-sync makes no Plex writes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emulators import demo_library as lib  # noqa: E402
from emulators.plex_server import PlexEmulator  # noqa: E402
from emulators.plugin_runner import PluginRunner  # noqa: E402
from emulators.stash_server import StashEmulator  # noqa: E402


def children_peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def interpreter_floor_ms(runs: int) -> float:
    """Python start + one SQLite insert: the cost no hook can go below."""
    code = ("import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('create table if not exists t(x)');"
            "c.execute('insert into t values(1)');c.commit()")
    with tempfile.TemporaryDirectory() as tmp:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code, f"{tmp}/f.db"], check=True)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def populate(stash, plex, count: int) -> list[str]:
    section = plex.add_section(title="Bench", locations=[lib.PLEX_ROOT], type="movie")
    tags = [stash.add_tag(f"Tag {n}") for n in range(40)]
    performers = [stash.add_performer(f"Performer {n}") for n in range(60)]
    studio = stash.add_studio("Bench Studio")
    scene_ids = []
    for n in range(count):
        path = f"bench/{n // 500}/scene_{n:06d}.mp4"
        plex.add_item(section, file=f"{lib.PLEX_ROOT}/{path}", size=10_000 + n, title=f"scene_{n:06d}")
        scene_ids.append(stash.add_scene(
            title=f"Bench scene {n}", details="A paragraph of details.\n\nAnd another.", date="2024-01-02",
            rating100=70, studio_id=studio, performer_ids=performers[n % 50:n % 50 + 2],
            tag_ids=tags[n % 30:n % 30 + 8], files=[{"path": f"{lib.STASH_ROOT}/{path}", "size": 10_000 + n}],
            screenshot=lib.tiny_png(n)))
    return scene_ids


def bench_hooks(runner: PluginRunner, scene_ids: list[str], runs: int) -> dict:
    samples = []
    for n in range(runs):
        result = runner.run_hook("Scene.Update.Post", int(scene_ids[n % len(scene_ids)]), input=None)
        if result.error:
            raise SystemExit(f"hook failed: {result.error}")
        samples.append(result.seconds * 1000)
    samples.sort()
    return {"runs": runs, "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1), "min_ms": round(samples[0], 1)}


def bench_sync(runner: PluginRunner, plex: PlexEmulator, count: int) -> dict:
    plex.reset_requests()
    started = time.perf_counter()
    result = runner.run_task("Sync All Scenes", timeout=3600)
    seconds = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    out = result.output
    return {"scenes": count, "seconds": round(seconds, 2), "scenes_per_second": round(count / seconds, 1),
            "plex_requests": len(plex.requests), "plex_writes": plex.writes(),
            "requests_per_scene": round(len(plex.requests) / count, 2), "succeeded": out.get("succeeded"),
            "remaining": out.get("remaining")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=2000)
    parser.add_argument("--hook-runs", type=int, default=40)
    parser.add_argument("--plex-latency-ms", type=float, default=0.0,
                        help="add this much latency to every Plex answer (a real server over a LAN is not instant)")
    args = parser.parse_args()
    figures: dict[str, object] = {"python": sys.version.split()[0]}
    figures["interpreter_floor_ms"] = round(interpreter_floor_ms(10), 1)
    with tempfile.TemporaryDirectory(prefix="plexsync-bench-") as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN, truncate_list_tags=True) as plex, StashEmulator() as stash:
        scene_ids = populate(stash, plex, args.scenes)
        if args.plex_latency_ms:
            plex.delay(r".", args.plex_latency_ms / 1000.0)
            figures["plex_latency_ms"] = args.plex_latency_ms
        runner = PluginRunner(REPO, stash.server_connection(data_dir=tmp, plugin_dir=str(REPO)))
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, settle_seconds=3600))
        figures["hook"] = bench_hooks(runner, scene_ids, args.hook_runs)
        runner.run_task("Clear Pending Queue")
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url))
        figures["first_sync_all"] = bench_sync(runner, plex, args.scenes)
        figures["unchanged_sync_all"] = bench_sync(runner, plex, args.scenes)
        figures["peak_rss_of_plugin_processes_mb"] = children_peak_rss_mb()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
