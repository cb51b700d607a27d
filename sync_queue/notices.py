"""What the detached worker wants a person to know, kept until the next hook or task shows it once.

The worker has no Stash stderr (it must not hold Stash's pipes), so a missing setting, a pause, new dead
letters or ambiguous matches would stay in ``worker.log``. They are gathered here, in one kv row, and the next
run that does have Stash's stderr takes the row (read and delete in one transaction: shown once, by one
process) and logs it as a Warning. Imported by the hook path: standard library only.
"""

from __future__ import annotations

import json
import time

from sync_queue.database import Database
from sync_queue.schema import KV_WORKER_NOTICES

TYPE_CHECKING = False  # typing's import costs every hook ~3 ms: only type checkers (which read it as True) need it
if TYPE_CHECKING:
    from typing import Any, Iterable

IDS_KEPT = 20  # scene ids remembered per kind (the count goes on)
PROBLEMS_KEPT = 5


def add_notice(store: Database, *, dead: Iterable[int] = (), ambiguous: Iterable[int] = (),
               problem: str | None = None, needs_health_check: bool = False) -> None:
    """Merge one worker outcome into the pending notice."""
    dead, ambiguous = list(dead), list(ambiguous)
    if not (dead or ambiguous or problem):
        return
    with store.transaction():
        notice = store.get_json(KV_WORKER_NOTICES, None) or {"since": time.time(), "dead": [], "dead_count": 0,
                                                              "ambiguous": [], "ambiguous_count": 0, "problems": []}
        for kind, ids in (("dead", dead), ("ambiguous", ambiguous)):
            new = [scene_id for scene_id in ids if scene_id not in notice[kind]]
            notice[kind] = (notice[kind] + new)[:IDS_KEPT]
            notice[f"{kind}_count"] += len(new)
        if problem and problem not in notice["problems"]:
            notice["problems"] = (notice["problems"] + [problem])[-PROBLEMS_KEPT:]
        notice["health_check"] = notice.get("health_check", False) or needs_health_check
        store.set_json(KV_WORKER_NOTICES, notice)


def take_notice(store: Database, raw: str | None) -> str | None:
    """The notice in words, removed so no other run repeats it. ``raw``: the kv value the caller already
    read (a hook reads it with its other keys in one query); None means there is none, at no cost."""
    if raw is None:
        return None
    with store.transaction() as conn:
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (KV_WORKER_NOTICES,)).fetchone()
        if row is None:
            return None  # another run took it a moment ago
        conn.execute("DELETE FROM kv WHERE key = ?", (KV_WORKER_NOTICES,))
    return notice_text(json.loads(row[0]))


def notice_text(notice: dict[str, Any]) -> str:
    """'since 14:02: 2 scenes dead-lettered (3, 9), Plex rejected the token (401) — run Health Check …'."""
    from datetime import datetime  # here: most hooks find no notice to word

    parts = []
    for kind, words in (("dead", "dead-lettered (see Queue Status)"), ("ambiguous", "matched ambiguously, so "
                                                                                   "not synced")):
        count = int(notice.get(f"{kind}_count", 0))
        if count:
            ids = ", ".join(str(scene_id) for scene_id in notice.get(kind, []))
            parts.append(f"{count} scene{'' if count == 1 else 's'} {words}: {ids}" + (" …" if count > len(
                notice.get(kind, [])) else ""))
    parts += [str(problem) for problem in notice.get("problems", [])]
    since_text = datetime.fromtimestamp(float(notice.get("since") or time.time())).strftime("%Y-%m-%d %H:%M")
    text = f"Background worker, since {since_text}: " + "; ".join(parts)
    if notice.get("health_check"):
        text += " — run Health Check after fixing it"
    return text
