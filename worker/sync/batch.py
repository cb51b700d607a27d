"""What one batch carries between its stages: the jobs decided before a write, the pushes in flight, and the
report of outcomes a task's summary reads (``worker.sync.engine`` fills them, ``worker.sync.loop`` sums them)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from typing import Any

from sync_queue.scenes import Claim


@dataclass
class BatchReport:
    processed: int = 0
    succeeded: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    waiting_for_plex: int = 0  # not listed by Plex yet, or Plex (or a cover from Stash) not answering: retried
    # Scenes that did not reach Plex, and why: {"scene_id", "state", "reason"} (what a task's summary names).
    attention: list[dict[str, Any]] = field(default_factory=list)

    def tally(self, outcome: str) -> None:
        self.processed += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, other: BatchReport) -> None:
        for name in self.as_dict():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.attention += other.attention

    def as_dict(self) -> dict[str, int]:
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name != "attention"}


@dataclass
class PushJob:
    """A scene that needs a write to Plex, with everything decided before the write."""

    claim: Claim
    scene: dict[str, Any]
    wanted: Any
    fingerprint: str
    match: Any


@dataclass
class StartedBatch:
    """A prepared batch whose pushes are queued or running; ``finish_batch`` records their outcomes."""

    report: BatchReport
    pushes: list[tuple[PushJob, Future]]
