"""Speed and memory figures, measured end to end against the emulators. Prints figures; asserts nothing.

    python benchmarks/run.py                 # defaults sized for a 2-core machine (~1-2 minutes)
    python benchmarks/run.py --scenes 10000  # a bigger library

Targets (issue "Performance at 100,000 scenes"): hook median ≤ 2× and p99 ≤ 4× the floor measured in the same
run; a big library synced in minutes; an unchanged re-sync makes no Plex writes. Memory is each plugin
process's own peak (rss_probe), never the benchmark's.
"""

from __future__ import annotations

import argparse
import json
import os
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


RSS_PROBE_DIR = REPO / "benchmarks" / "rss_probe"


def enable_rss_probe(log_path: Path) -> None:
    """Every plugin process started from now on logs its own peak RSS (see rss_probe/sitecustomize.py)."""
    os.environ["PYTHONPATH"] = str(RSS_PROBE_DIR)
    os.environ["PLEXSYNC_BENCH_RSS_LOG"] = str(log_path)


def disable_rss_probe() -> None:
    os.environ.pop("PYTHONPATH", None)
    os.environ.pop("PLEXSYNC_BENCH_RSS_LOG", None)


def peak_rss_by_process(log_path: Path) -> dict[str, float]:
    """Largest own peak (MB) per kind of plugin process: 'plugin run' (hook or task) and 'detached worker'."""
    peaks: dict[str, float] = {}
    if not log_path.exists():
        return peaks
    for line in log_path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("peak_kib") is None:
            continue
        kind = "detached_worker_mb" if record["command"] == "worker" else "plugin_run_mb"
        peaks[kind] = max(peaks.get(kind, 0.0), round(record["peak_kib"] / 1024, 1))
    return peaks


def percentile(sorted_samples: list[float], share: float) -> float:
    return sorted_samples[min(len(sorted_samples) - 1, max(0, round(len(sorted_samples) * share) - 1))]


def interpreter_floor_ms(runs: int) -> dict:
    """The cost no hook can go below: Python start, ``json.load`` of Stash's stdin, one committed SQLite insert."""
    code = ("import json,sqlite3,sys;json.load(sys.stdin);c=sqlite3.connect(sys.argv[1]);"
            "c.execute('create table if not exists t(x)');c.execute('insert into t values(1)');c.commit()")
    stdin = json.dumps({"server_connection": {"Dir": "/tmp"}, "args": {"hookContext": {"id": 1}}}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code, f"{tmp}/f.db"], input=stdin, check=True)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 1), "p99_ms": round(percentile(samples, 0.99), 1)}


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
            "p95_ms": round(percentile(samples, 0.95), 1), "p99_ms": round(percentile(samples, 0.99), 1),
            "min_ms": round(samples[0], 1)}


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


def store_size_per_thousand(data_dir: Path, scenes: int) -> float:
    total = sum(path.stat().st_size for path in data_dir.rglob("plexsync.db*") if path.is_file())
    return round(total / 1024 / scenes * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=2000)
    parser.add_argument("--hook-runs", type=int, default=40)
    parser.add_argument("--plex-latency-ms", type=float, default=0.0,
                        help="add this much latency to every Plex answer (a real server over a LAN is not instant)")
    args = parser.parse_args()
    figures: dict[str, object] = {"python": sys.version.split()[0]}
    figures["hook_floor"] = interpreter_floor_ms(max(10, args.hook_runs // 2))
    with tempfile.TemporaryDirectory(prefix="plexsync-bench-") as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN, truncate_list_tags=True) as plex, StashEmulator() as stash:
        scene_ids = populate(stash, plex, args.scenes)
        if args.plex_latency_ms:
            plex.delay(r".", args.plex_latency_ms / 1000.0)
            figures["plex_latency_ms"] = args.plex_latency_ms
        runner = PluginRunner(REPO, stash.server_connection(data_dir=tmp, plugin_dir=str(REPO)))
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, settle_seconds=3600))
        figures["hook"] = bench_hooks(runner, scene_ids, args.hook_runs)
        floor = figures["hook_floor"]["median_ms"]
        figures["hook"]["median_vs_floor"] = round(figures["hook"]["median_ms"] / floor, 2)
        figures["hook"]["p99_vs_floor"] = round(figures["hook"]["p99_ms"] / floor, 2)
        runner.run_task("Clear Pending Queue")
        rss_log = Path(tmp) / "peak-rss.jsonl"
        enable_rss_probe(rss_log)
        try:
            bench_hooks(runner, scene_ids, 3)  # a few probed hooks: their own peak memory
            runner.run_task("Clear Pending Queue")
            stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url))
            figures["first_sync_all"] = bench_sync(runner, plex, args.scenes)
            figures["unchanged_sync_all"] = bench_sync(runner, plex, args.scenes)
        finally:
            disable_rss_probe()
        figures["peak_rss_own_mb"] = peak_rss_by_process(rss_log)
        figures["store_kib_per_1000_scenes"] = store_size_per_thousand(Path(tmp), args.scenes)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
