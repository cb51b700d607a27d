"""The request-size limit learned from Plex's (or its proxy's) refusals is kept per server, for a week, and only
a refusal that was about size teaches one."""

from __future__ import annotations

import time

from plex.errors import PlexRejected
from sync_queue.store import Store
from worker.sync.request_limits import KV_PLEX_REQUEST_LIMIT, LIMIT_TRUST_S, LearnedLimit

URL = "https://plex.example:443/"


def test_a_refused_size_is_learned_kept_and_read_back_for_the_same_server_only(tmp_path):
    with Store(tmp_path) as store:
        learned = LearnedLimit(store, URL)
        assert learned.limit.line_bytes is None
        learned.keep()
        assert store.get_json(KV_PLEX_REQUEST_LIMIT) is None  # nothing learned: nothing written
        assert learned.limit.lower_after(PlexRejected("(414) request-uri too large", 414), 27_000) == 16000
        assert learned.limit.lower_after(PlexRejected("(414) request-uri too large", 414), 15_990) == 8000
        learned.keep()
        assert "plex.example" not in str(store.get_json(KV_PLEX_REQUEST_LIMIT))
        assert LearnedLimit(store, "https://PLEX.example:443").limit.line_bytes == 8000  # the same address
        assert LearnedLimit(store, "http://192.168.1.10:32400").limit.line_bytes is None  # another: unknown
        later = time.time() + LIMIT_TRUST_S + 60
        assert LearnedLimit(store, URL, now_s=later).limit.line_bytes is None  # a week on: asked again


def test_only_a_size_refusal_of_a_long_request_lowers_the_limit():
    from plex.request_limit import RequestLimit

    limit = RequestLimit()
    assert limit.lower_after(PlexRejected("(403) forbidden", 403), 20_000) is None
    assert limit.lower_after(PlexRejected("(400) bad_request", 400), 3_000) is None  # short: not about size
    assert limit.lower_after(ValueError("boom"), 20_000) is None
    assert limit.line_bytes is None
    assert limit.lower_after(PlexRejected("(400) bad_request", 400), 35_000) == 32000  # PMS itself
    limit.undo(32000, None)  # every step was refused as well: it was not about size after all
    assert limit.line_bytes is None
