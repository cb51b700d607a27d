"""Speed and memory figures, measured end to end against the emulators. Prints figures; asserts nothing.

    python benchmarks/run.py                 # defaults sized for a 2-core machine (~1-2 minutes)
    python benchmarks/run.py --scenes 10000  # a bigger library (100000 works too: allow an hour or more)
    python benchmarks/run.py --plex-latency-ms 20   # a Plex over a network: is Plex kept busy?
    python benchmarks/run.py --profile       # where the first Sync All's time goes (slower: it is profiled)
    python benchmarks/run.py --profile unchanged --sync-only   # the same for a Sync All with nothing to do

Phases: the hook alone; the first Sync All (new scenes), an unchanged one, one where every scene has one
field edited, each with Plex requests per scene and our CPU per scene; then the hook again while a task
drains that edit and while a slow library listing runs.

Targets (issue "Performance at 100,000 scenes"): hook median ≤ 2× and p99 ≤ 4× the floor measured in the same
run; a big library synced in minutes; an unchanged re-sync makes no Plex writes. Memory is each plugin
process's own peak (rss_probe), never the benchmark's.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emulators import demo_library as lib  # noqa: E402
from emulators.plex.server import PlexEmulator  # noqa: E402
from emulators.plugin_runner import PluginRunner  # noqa: E402
from emulators.stash.server import StashEmulator  # noqa: E402


RSS_PROBE_DIR = REPO / "benchmarks" / "rss_probe"


LISTING_PATH = r"^/library/sections/\d+/all$"


def enable_rss_probe(log_path: Path) -> None:
    """Every plugin process started from now on logs its own peak RSS, CPU and wall time (rss_probe)."""
    os.environ["PYTHONPATH"] = str(RSS_PROBE_DIR)
    os.environ["PLEXSYNC_BENCH_RSS_LOG"] = str(log_path)


def disable_rss_probe() -> None:
    os.environ.pop("PYTHONPATH", None)
    os.environ.pop("PLEXSYNC_BENCH_RSS_LOG", None)


def probe_records(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]


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


FLOOR_CODE = ("import json,sqlite3,sys;json.load(sys.stdin);c=sqlite3.connect(sys.argv[1]);"
              "c.execute('create table if not exists t(x)');c.execute('insert into t values(1)');c.commit()")
FLOOR_STDIN = json.dumps({"server_connection": {"Dir": "/tmp"}, "args": {"hookContext": {"id": 1}}}).encode()


def floor_run_ms(db_path: str, env: dict[str, str] | None = None) -> float:
    """One run of the cost no hook can go below: Python start, ``json.load`` of Stash's stdin, one committed
    SQLite insert."""
    started_mono_s = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR_CODE, db_path], input=FLOOR_STDIN, check=True, env=env)
    return (time.perf_counter() - started_mono_s) * 1000


def interpreter_floor_ms(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        samples = sorted(floor_run_ms(f"{tmp}/f.db") for _ in range(runs))
    return {"median_ms": round(statistics.median(samples), 1), "p99_ms": round(percentile(samples, 0.99), 1)}


def unprobed(runner: PluginRunner) -> PluginRunner:
    """The plugin without rss_probe (its import and exit report are no hook's cost): for timed hooks."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PLEXSYNC_BENCH_RSS_LOG")}
    return PluginRunner(runner.plugin_dir, runner.server_connection, env=env, cwd=runner.cwd)


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


def bench_hooks(runner: PluginRunner, scene_ids: list[str], runs: int, *,
                during: threading.Thread | None = None) -> dict:
    """Hook wall times (ms); with ``during``, only hooks that ran while that thread (a task) was still running.
    Each hook is followed by a floor run under the same load (``paired_floor``): on a shared machine a floor
    timed minutes earlier says more about the neighbours than about the hook."""
    samples, floors = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(runs if during is None else 10**9):
            if during is not None and not during.is_alive():
                break
            result = runner.run_hook("Scene.Update.Post", int(scene_ids[n % len(scene_ids)]), input=None)
            if result.error:
                raise SystemExit(f"hook failed: {result.error}")
            floor = floor_run_ms(f"{tmp}/f.db", runner.env)
            if during is None or during.is_alive():
                samples.append(result.elapsed_s * 1000)
                floors.append(floor)
    if not samples:
        return {"runs": 0}
    figures, paired = summary(samples), summary(floors)
    figures["paired_floor"] = {"median_ms": paired["median_ms"], "p99_ms": paired["p99_ms"]}
    figures["median_vs_paired_floor"] = round(figures["median_ms"] / paired["median_ms"], 2)
    figures["p99_vs_paired_floor"] = round(figures["p99_ms"] / paired["p99_ms"], 2)
    return figures


def summary(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"runs": len(samples), "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 0.95), 1), "p99_ms": round(percentile(samples, 0.99), 1),
            "min_ms": round(samples[0], 1)}


def run_task(runner: PluginRunner, name: str) -> dict:
    result = runner.run_task(name, timeout=4 * 3600)
    if result.error:
        raise SystemExit(f"{name} failed: {result.error}")
    return result.output


def bench_sync(runner: PluginRunner, plex: PlexEmulator, count: int, rss_log: Path) -> dict:
    """One Sync All: wall time, Plex requests per scene, and the task process's own CPU per scene."""
    plex.reset_requests()
    seen = len(probe_records(rss_log))
    started_mono_s = time.perf_counter()
    out = run_task(runner, "Sync All Scenes")
    elapsed_s = time.perf_counter() - started_mono_s
    figures = {"scenes": count, "seconds": round(elapsed_s, 2), "scenes_per_second": round(count / elapsed_s, 1),
               "plex_requests": len(plex.requests), "plex_writes": plex.writes(),
               "requests_per_scene": round(len(plex.requests) / count, 2), "listing_pages": listing_pages(plex),
               "succeeded": out.get("succeeded"),
               "remaining": out.get("remaining")}
    task = [r for r in probe_records(rss_log)[seen:] if r.get("cpu_s") is not None]
    if task:
        cpu_s, wall_s = sum(r["cpu_s"] for r in task), sum(r["wall_s"] for r in task)
        figures["cpu_ms_per_scene"] = round(cpu_s * 1000 / count, 2)
        # the rest of the wall time: waiting on Plex/Stash
        figures["own_cpu_share_of_wall"] = round(cpu_s / wall_s, 2) if wall_s else None
    return figures


def listing_pages(plex: PlexEmulator) -> int:
    """Section listing requests (index refreshes): they must grow with what is new, not with the library."""
    return sum(1 for r in list(plex.requests) if r.method == "GET" and re.match(LISTING_PATH, r.path))


def edit_one_field(stash: StashEmulator, scene_ids: list[str]) -> None:
    for scene_id in scene_ids:
        stash.update_scene(scene_id, title=f"Edited {scene_id}")


def in_background(runner: PluginRunner, task: str) -> tuple[threading.Thread, dict]:
    output: dict = {}
    thread = threading.Thread(target=lambda: output.update(run_task(runner, task)), daemon=True)
    thread.start()
    return thread, output


def profile_summary(path: Path, top: int = 12) -> dict:
    """Where the profiled task's threads spent their time, by function (own time), grouped by kind."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    rows = []
    for (file, _line, name), (_calls, _prim, own, _cum, _callers) in stats.items():
        kind = profile_kind(file, name)
        groups[kind] = groups.get(kind, 0.0) + own
        if not kind.startswith("idle"):
            rows.append((own, f"{Path(file).name}:{name}" if file != "~" else name, kind))
    busy_s = sum(own_s for kind, own_s in groups.items() if not kind.startswith("idle")) or 1.0
    return {"thread_seconds_by_kind": {kind: round(own_s, 2) for kind, own_s in sorted(groups.items())},
            "share_of_non_idle": {kind: round(own_s / busy_s, 3) for kind, own_s in groups.items()
                                  if not kind.startswith("idle")},
            "top_functions_own_time": [(name, round(own, 3), kind) for own, name, kind in sorted(rows)[::-1][:top]]}


def profile_kind(file: str, name: str) -> str:
    if "recv" in name or "connect" in name or "poll" in name or "select" in name or "sendall" in name:
        return "waiting on Plex/Stash (socket)"
    if "acquire" in name or "SimpleQueue" in name or "'wait'" in name:
        return "idle or waiting for a lock (threads parked between pushes)"
    for marker, kind in (("requests", "CPU: HTTP stack"), ("urllib3", "CPU: HTTP stack"), ("http/", "CPU: HTTP stack"),
                         ("plexapi", "CPU: plexapi + XML"), ("xml", "CPU: plexapi + XML"),
                         ("stashapi", "CPU: stashapi"), ("sqlite", "CPU: SQLite"), ("json", "CPU: JSON"),
                         ("/work/", "CPU: PlexSync's own code")):
        if marker in file or marker in name:
            return kind
    return "CPU: other (stdlib, builtins)"


def bench_edits_and_listing(runner: PluginRunner, stash: StashEmulator, plex: PlexEmulator, scene_ids: list[str],
                            args: argparse.Namespace, figures: dict) -> None:
    """Every scene's title edited in Stash, synced by a task while hooks run (they settle for an hour, so the task
    does not pick them up); then hooks while a slow library listing runs."""
    stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, settle_seconds=3600))
    edit_one_field(stash, scene_ids)
    plex.reset_requests()
    draining, _ = in_background(runner, "Sync All Scenes")
    figures["hook_while_draining"] = bench_hooks(unprobed(runner), scene_ids, 0, during=draining)
    draining.join()
    figures["one_field_edit_sync_all"] = {"plex_requests": len(plex.requests), "plex_writes": plex.writes(),
                                          "requests_per_scene": round(len(plex.requests) / args.scenes, 2)}
    run_task(runner, "Clear Pending Queue")
    plex.delay(LISTING_PATH, args.listing_delay_ms / 1000.0, method="GET")
    listing, _ = in_background(runner, "Rebuild Plex Index")
    figures["hook_while_listing"] = bench_hooks(unprobed(runner), scene_ids, 0, during=listing)
    listing.join()
    plex.clear_faults()
    run_task(runner, "Clear Pending Queue")


def store_size_per_thousand(data_dir: Path, scenes: int) -> float:
    total = sum(path.stat().st_size for path in data_dir.rglob("plexsync.db*") if path.is_file())
    return round(total / 1024 / scenes * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=2000)
    parser.add_argument("--hook-runs", type=int, default=40)
    parser.add_argument("--plex-latency-ms", type=float, default=0.0,
                        help="add this much latency to every Plex answer (a real server over a LAN is not instant)")
    parser.add_argument("--listing-delay-ms", type=float, default=1500.0,
                        help="how slowly each library listing page answers while hooks are timed against it")
    parser.add_argument("--sync-only", action="store_true",
                        help="stop after the unchanged Sync All (a 100k run: the edit and listing phases add ~half)")
    parser.add_argument("--profile", nargs="?", const="first", choices=("first", "unchanged"),
                        help="profile the first (default) or the unchanged Sync All's threads (cProfile) and "
                             "summarise where its time went")
    args = parser.parse_args()
    figures: dict[str, object] = {"python": sys.version.split()[0]}
    figures["hook_floor"] = interpreter_floor_ms(max(10, args.hook_runs // 2))
    with tempfile.TemporaryDirectory(prefix="plexsync-bench-") as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN, truncate_list_tags=True) as plex, StashEmulator() as stash:
        started_mono_s = time.perf_counter()
        scene_ids = populate(stash, plex, args.scenes)
        figures["populate_seconds"] = round(time.perf_counter() - started_mono_s, 1)
        if args.plex_latency_ms:
            plex.delay(r".", args.plex_latency_ms / 1000.0)
            figures["plex_latency_ms"] = args.plex_latency_ms
        runner = PluginRunner(REPO, stash.server_connection(data_dir=tmp, plugin_dir=str(REPO)))
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, settle_seconds=3600))
        figures["hook"] = bench_hooks(unprobed(runner), scene_ids, args.hook_runs)
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
            profile_path = Path(tmp) / "sync.prof"
            for phase in ("first", "unchanged"):
                if args.profile == phase:
                    os.environ["PLEXSYNC_BENCH_PROFILE"] = str(profile_path)
                figures[f"{phase}_sync_all"] = bench_sync(runner, plex, args.scenes, rss_log)
                os.environ.pop("PLEXSYNC_BENCH_PROFILE", None)
                if args.profile == phase:
                    figures[f"{phase}_sync_all_profile"] = profile_summary(profile_path)
                if phase == "first":
                    figures["store_kib_per_1000_scenes"] = store_size_per_thousand(Path(tmp), args.scenes)
            if not args.sync_only:
                bench_edits_and_listing(runner, stash, plex, scene_ids, args, figures)
        finally:
            disable_rss_probe()
        for key in ("hook_while_draining", "hook_while_listing"):
            if key in figures and figures[key].get("runs"):
                figures[key]["median_vs_floor"] = round(figures[key]["median_ms"] / floor, 2)
                figures[key]["p99_vs_floor"] = round(figures[key]["p99_ms"] / floor, 2)
        figures["peak_rss_own_mb"] = peak_rss_by_process(rss_log)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
