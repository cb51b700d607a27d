"""How long the gap report takes on a big library, end to end as Stash runs the task. Prints figures; asserts
nothing.

    python benchmarks/gaps.py                   # 10,000 scenes (~1 minute)
    python benchmarks/gaps.py --scenes 100000   # the issue's size (~5 minutes, most of it filling the emulators)

The library: N Stash scenes, each file in Plex except every 100th (Stash-only), plus N/100 Plex items no scene
has (Plex-only). The store is what a Sync All leaves: the Plex index from a full listing (the Rebuild Plex
Index task) and every scene Plex has linked to its item (written directly: a real Sync All of 100,000 scenes
takes a quarter of an hour, see docs/performance.md "Scale"). Then the Show Gaps task runs twice: the first
reads the Plex-only items' titles, the second finds them cached.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from emulators import demo_library as lib  # noqa: E402
from emulators.plex.server import PlexEmulator  # noqa: E402
from emulators.plugin_runner import PluginRunner  # noqa: E402
from emulators.stash.server import StashEmulator  # noqa: E402
from run import disable_rss_probe, enable_rss_probe, peak_rss_by_process, probe_records  # noqa: E402

from sync_queue.store import Store  # noqa: E402
from worker.tasks.gaps import SCENE_FILES, STASH_PER_PAGE  # noqa: E402
from worker.stash.reader import StashReader  # noqa: E402

MISSING_EVERY = 100  # every 100th scene's file is not in Plex; as many Plex items have no scene


def populate(stash: StashEmulator, plex: PlexEmulator, count: int) -> tuple[int, dict[str, int]]:
    """The library; returns the section id and scene id → ratingKey of the scenes Plex has. Plex added the items
    one a second until two days ago (a refresh lists only what changed since the last one: here, nothing)."""
    stamps = itertools.count(int(time.time()) - 2 * 86400 - count)
    plex.library.clock = lambda: next(stamps)
    section = plex.add_section(title="Bench", locations=[lib.PLEX_ROOT], type="movie")
    links = {}
    for n in range(count):
        path = f"bench/{n // 500}/scene_{n:06d}.mp4"
        scene_id = stash.add_scene(title=f"Bench scene {n}", files=[{"path": f"{lib.STASH_ROOT}/{path}", "size": n}])
        if n % MISSING_EVERY:
            links[scene_id] = plex.add_item(section, file=f"{lib.PLEX_ROOT}/{path}", size=n, title=f"scene_{n:06d}")
    for n in range(count // MISSING_EVERY):
        plex.add_item(section, file=f"{lib.PLEX_ROOT}/plex-only/extra_{n:05d}.mp4", size=n, title=f"Extra {n}")
    plex.library.clock = lambda: int(time.time())
    return section, links


def link_scenes(data_dir: Path, section: int, links: dict[str, int]) -> None:
    with Store(data_dir) as store, store.transaction() as conn:
        conn.executemany("INSERT INTO scenes(scene_id, generation, done_generation, status, rating_key, section_id, "
                         "match_method) VALUES(?, 1, 1, 'synced', ?, ?, 'path')",
                         [(int(scene_id), key, section) for scene_id, key in links.items()])


def timed_task(runner: PluginRunner, plex: PlexEmulator, stash: StashEmulator, name: str) -> tuple[dict, dict]:
    plex.reset_requests()
    stash.reset_queries()
    started_mono_s = time.perf_counter()
    result = runner.run_task(name, timeout=3600)
    if result.error:
        raise SystemExit(f"{name} failed: {result.error}")
    figures = {"seconds": round(time.perf_counter() - started_mono_s, 2), "plex_requests": len(plex.requests),
               "stash_requests": len(stash.queries)}
    return result.output, figures


def stash_paging_s(stash: StashEmulator) -> float:
    """Stash's side alone: the pages the task reads, asked for from here with nothing done with them (so the
    task's time less this is PlexSync's own work, and the emulator's share shows)."""
    reader = StashReader.from_url(stash.url)
    started_mono_s, page = time.perf_counter(), 1
    while True:
        answer = reader.call(SCENE_FILES, {"filter": {"page": page, "per_page": STASH_PER_PAGE, "sort": "id",
                                                      "direction": "ASC"}})["findScenes"]
        if page * STASH_PER_PAGE >= answer["count"]:
            return round(time.perf_counter() - started_mono_s, 2)
        page += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=10_000)
    args = parser.parse_args()
    figures: dict[str, object] = {"python": sys.version.split()[0], "scenes": args.scenes}
    with tempfile.TemporaryDirectory(prefix="plexsync-gaps-") as tmp, \
            PlexEmulator(token=lib.PLEX_TOKEN, truncate_list_tags=True) as plex, StashEmulator() as stash:
        started_mono_s = time.perf_counter()
        section, links = populate(stash, plex, args.scenes)
        figures["populate_seconds"] = round(time.perf_counter() - started_mono_s, 1)
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url))
        runner = PluginRunner(REPO, stash.server_connection(data_dir=tmp, plugin_dir=str(REPO)))
        data_dir = Path(tmp) / "plugin_data" / "PlexSync"
        _, figures["rebuild_index"] = timed_task(runner, plex, stash, "Rebuild Plex Index")
        link_scenes(data_dir, section, links)
        rss_log = Path(tmp) / "peak-rss.jsonl"
        enable_rss_probe(rss_log)
        try:
            for run in ("first", "again"):
                seen = len(probe_records(rss_log))
                output, timing = timed_task(runner, plex, stash, "Show Gaps")
                task = [record for record in probe_records(rss_log)[seen:] if record.get("cpu_s") is not None]
                figures[f"{run}_show_gaps"] = {**timing, "inside_task_seconds": output["seconds"],
                                               "task_cpu_seconds": round(sum(r["cpu_s"] for r in task), 2),
                                               "plex_only": output["plex_only_count"],
                                               "stash_only": output["stash_only_count"],
                                               "titled": sum(1 for item in output["plex_only"] if item["title"])}
        finally:
            disable_rss_probe()
        figures["peak_rss_own_mb"] = peak_rss_by_process(rss_log)
        figures["stash_pages_alone_seconds"] = stash_paging_s(stash)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
