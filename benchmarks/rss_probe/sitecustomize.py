"""Put on PYTHONPATH by ``benchmarks/run.py`` only: every Python process the benchmark starts appends its OWN peak
resident memory, CPU time and wall time to ``$PLEXSYNC_BENCH_RSS_LOG`` at exit.

Why not ``getrusage(RUSAGE_CHILDREN)`` in the benchmark: on Linux it reports the largest child's ``ru_maxrss``,
which includes the parent's resident memory at fork time, so a big benchmark process made tiny plugin
processes look huge. ``VmHWM`` in ``/proc/self/status`` is the process's own high-water mark.
"""

import os
import time

_STARTED_MONO_S = time.perf_counter()  # as early as site start-up runs: the interpreter's own start is not counted


def _peak_kib() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
        import sys
    except ImportError:  # Windows: no portable per-process peak without extra packages
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _report(log_path: str) -> None:
    import json
    import sys

    times = os.times()
    record = {"pid": os.getpid(), "command": (sys.argv[1:2] or ["(stdin)"])[0], "peak_kib": _peak_kib(),
              "cpu_s": round(times.user + times.system, 4), "wall_s": round(time.perf_counter() - _STARTED_MONO_S, 4)}
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


def _profile_every_thread(path: str) -> None:
    """``benchmarks/run.py --profile``: one cProfile per thread (cProfile sees only the thread that enabled it),
    merged into ``path`` at exit."""
    import atexit
    import cProfile
    import sys
    import threading

    profiles = []

    def start() -> None:
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    def first_call_in_a_new_thread(frame, event, arg):  # type: ignore[no-untyped-def]
        sys.setprofile(None)  # hand this thread over to its own cProfile
        start()

    def dump() -> None:
        import pstats

        profiles[0].disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)

    threading.setprofile(first_call_in_a_new_thread)
    start()
    atexit.register(dump)


def _install() -> None:
    log_path = os.environ.get("PLEXSYNC_BENCH_RSS_LOG")
    if log_path:
        import atexit

        atexit.register(_report, log_path)
    profile_path = os.environ.get("PLEXSYNC_BENCH_PROFILE")
    if profile_path:
        _profile_every_thread(profile_path)


_install()
