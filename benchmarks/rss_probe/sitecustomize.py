"""Put on PYTHONPATH by ``benchmarks/run.py`` only: every Python process the benchmark starts (hooks, tasks,
the detached worker they spawn) appends its OWN peak resident memory to ``$PLEXSYNC_BENCH_RSS_LOG`` at exit.

Why not ``getrusage(RUSAGE_CHILDREN)`` in the benchmark: on Linux it reports the largest child's ``ru_maxrss``,
which includes the parent's resident memory at fork time, so a big benchmark process made tiny plugin
processes look huge. ``VmHWM`` in ``/proc/self/status`` is the process's own high-water mark.
"""

import os


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

    record = {"pid": os.getpid(), "command": (sys.argv[1:2] or ["(stdin)"])[0], "peak_kib": _peak_kib()}
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


def _install() -> None:
    log_path = os.environ.get("PLEXSYNC_BENCH_RSS_LOG")
    if log_path:
        import atexit

        atexit.register(_report, log_path)


_install()
