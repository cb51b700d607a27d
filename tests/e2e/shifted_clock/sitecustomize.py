"""Loaded by Python in a plugin process with this folder on PYTHONPATH (tests/e2e/viewing/test_scrobble_e2e.py):
its clocks run PLEXSYNC_TEST_CLOCK_AHEAD_S seconds ahead, and keep ticking.

freezegun moves ``time.time``, ``datetime.now`` and the monotonic clock of this process only."""

import os

_AHEAD_S = float(os.environ.get("PLEXSYNC_TEST_CLOCK_AHEAD_S") or 0)
if _AHEAD_S:
    from datetime import datetime, timedelta, timezone

    from freezegun import freeze_time

    freeze_time(datetime.now(timezone.utc) + timedelta(seconds=_AHEAD_S), tick=True).start()
