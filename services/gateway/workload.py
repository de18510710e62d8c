"""What the system is working on: active jobs per user, recent job durations, estimates.

Every gateway replica watches the whole job-view bucket, so each one knows every active
job (not only those whose events it projected) and can answer `/system/queue` and
enforce MAX_QUEUED_JOBS in O(1) per request. Limits are soft: two replicas accepting at
the same instant may each admit one job past the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec
from nats.js.kv import KeyValue

from shared.jobview import JobView

log = logging.getLogger("videogen.gateway.workload")

# Used until jobs of that quality have finished here (then their real durations are).
DEFAULT_JOB_SECONDS = {"low": 60.0, "medium": 180.0, "high": 600.0, "ultra": 1500.0}
RECENT = 50

_decoder = msgspec.json.Decoder(JobView)


@dataclass
class Workload:
    """Active jobs (status queued/processing) and durations of recently finished ones."""

    active: dict[str, tuple[str, str]] = field(default_factory=dict)  # job → (user, status)
    durations: dict[str, deque[float]] = field(default_factory=dict)  # quality → seconds
    _finished: set[str] = field(default_factory=set)

    def observe(self, view: JobView) -> None:
        """Fold one job view (from the KV watch, or a job just accepted here)."""
        if not view.is_terminal:
            self.active[view.job_id] = (view.user_id, view.status)
            return
        self.active.pop(view.job_id, None)
        if view.status == "completed" and view.completed_at and view.job_id not in self._finished:
            self._finished.add(view.job_id)
            seconds = (view.completed_at - view.created_at).total_seconds()
            self.durations.setdefault(view.config.quality, deque(maxlen=RECENT)).append(seconds)

    def forget(self, job_id: str) -> None:
        self.active.pop(job_id, None)

    def count(self, user_id: str | None = None) -> int:
        return sum(1 for user, _ in self.active.values() if user_id in (None, user))

    def by_status(self) -> Counter[str]:
        return Counter(status for _, status in self.active.values())

    def job_seconds(self, quality: str) -> float:
        """Median wall time of recent jobs of this quality (a default before any)."""
        recent = self.durations.get(quality)
        return statistics.median(recent) if recent else DEFAULT_JOB_SECONDS[quality]

    def wait_seconds(self, quality: str) -> float:
        """How long a new job waits before it starts: queued work over working capacity."""
        statuses = self.by_status()
        capacity = max(statuses["processing"], 1)
        return statuses["queued"] * self.job_seconds(quality) / capacity

    def estimated_completion(self, quality: str, *, now: datetime) -> datetime:
        seconds = self.wait_seconds(quality) + self.job_seconds(quality)
        return now + timedelta(seconds=seconds)

    def retry_after_seconds(self) -> int:
        """When a slot is likely to free: half a typical job, at least a second."""
        typical = statistics.median(self.job_seconds(q) for q in DEFAULT_JOB_SECONDS)
        return max(1, round(min(typical, self.job_seconds("medium")) / 2))


async def follow(kv: KeyValue, workload: Workload, stop: asyncio.Event) -> None:
    """Keep `workload` current from every job view in the bucket, until `stop` is set."""
    while not stop.is_set():
        try:
            watcher = await kv.watchall()
            async for entry in watcher:
                if entry is None or not entry.value:
                    if entry is not None and entry.operation in ("DEL", "PURGE"):
                        workload.forget(entry.key.rsplit(".", 1)[-1])
                    continue
                with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                    workload.observe(_decoder.decode(entry.value))
        except asyncio.CancelledError:
            raise
        except Exception:
            if not stop.is_set():
                log.warning("job-view watch interrupted; resuming", exc_info=True)
                await asyncio.sleep(1)
