"""What the system is working on: active jobs per user, the render backlog, estimates.

Every gateway replica watches the whole job-view bucket, so each one knows every active
job (not only those whose events it projected) and can answer `/system/queue` and
enforce MAX_QUEUED_JOBS in O(1) per request. Limits are soft: two replicas accepting at
the same instant may each admit one job past the limit.

Jobs are `processing` while their scenes wait for a renderer, so counting jobs alone says
nothing about the wait: the render backlog (scenes waiting on the renderer's durable, the
render slots listening, recent render times) is what a new job queues behind.
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
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from shared import subjects
from shared.broker import CONSUMERS
from shared.jobview import JobView

log = logging.getLogger("videogen.gateway.workload")

# Used until jobs of that quality have finished here (then their real durations are).
DEFAULT_JOB_SECONDS = {"low": 60.0, "medium": 180.0, "high": 600.0, "ultra": 1500.0}
RECENT = 50
RECENT_RENDERS = 200
DEFAULT_RENDER_SECONDS = 20.0  # one scene, until renders have finished here
BACKLOG_REFRESH_SECONDS = 2.0
MAX_RETRY_AFTER_SECONDS = 3600


@dataclass(frozen=True)
class RenderBacklog:
    """The renderer's durable as JetStream reports it."""

    waiting: int = 0  # scenes coded, not yet taken by a renderer
    rendering: int = 0  # delivered to a renderer, not yet acknowledged
    idle_slots: int = 0  # pull requests waiting: free render slots across replicas

    @property
    def slots(self) -> int:
        """Render slots listening (busy or free), across every renderer replica."""
        return self.rendering + self.idle_slots


_decoder = msgspec.json.Decoder(JobView)


@dataclass
class Workload:
    """Active jobs (status queued/processing) and durations of recently finished ones."""

    active: dict[str, tuple[str, str]] = field(default_factory=dict)  # job → (user, status)
    durations: dict[str, deque[float]] = field(default_factory=dict)  # quality → seconds
    renders: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_RENDERS))
    backlog: RenderBacklog = field(default_factory=RenderBacklog)
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
            self.renders.extend(
                scene.render_seconds
                for scene in view.scenes.values()
                if scene.render_seconds is not None
            )

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

    def render_seconds(self) -> float:
        """Median wall time of one scene's render, recently (a default before any)."""
        return statistics.median(self.renders) if self.renders else DEFAULT_RENDER_SECONDS

    def backlog_seconds(self) -> float:
        """How long the renderers need for the scenes already waiting or rendering.

        With no renderer listening the wait is unbounded; it is estimated as if one
        slot were (the queue route says `render_slots: 0`).
        """
        scenes = self.backlog.waiting + self.backlog.rendering / 2  # those rendering: half done
        return scenes * self.render_seconds() / max(self.backlog.slots, 1)

    def wait_seconds(self, quality: str) -> float:
        """How long a new job waits before its scenes render: queued jobs, then the backlog."""
        statuses = self.by_status()
        capacity = max(statuses["processing"], 1)
        return statuses["queued"] * self.job_seconds(quality) / capacity + self.backlog_seconds()

    def estimated_completion(self, quality: str, *, now: datetime) -> datetime:
        seconds = self.wait_seconds(quality) + self.job_seconds(quality)
        return now + timedelta(seconds=seconds)

    def retry_after_seconds(self) -> int:
        """When a slot is likely to free: when the first active job's renders are done.

        Scenes render in stream order, so the oldest job's scenes come first: its share of
        the backlog. With no backlog, half a typical job. At least a second, at most an hour.
        """
        active = max(self.count(), 1)
        if self.backlog.waiting or self.backlog.rendering:
            seconds = self.backlog_seconds() / active
        else:
            typical = statistics.median(self.job_seconds(q) for q in DEFAULT_JOB_SECONDS)
            seconds = min(typical, self.job_seconds("medium")) / 2
        return int(min(max(1, round(seconds)), MAX_RETRY_AFTER_SECONDS))


async def read_backlog(js: JetStreamContext) -> RenderBacklog:
    """The renderer durable's pending, in-flight and waiting-pull counts."""
    info = await js.consumer_info(subjects.STREAM, CONSUMERS["renderer"].durable)
    return RenderBacklog(
        waiting=info.num_pending or 0,
        rendering=info.num_ack_pending or 0,
        idle_slots=info.num_waiting or 0,
    )


async def watch_backlog(js: JetStreamContext, workload: Workload, stop: asyncio.Event) -> None:
    """Keep `workload.backlog` a few seconds fresh (429s read it without a NATS round trip)."""
    while not stop.is_set():
        try:
            workload.backlog = await read_backlog(js)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the bus is down: keep the last figures, try again
            log.debug("render backlog not read: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), BACKLOG_REFRESH_SECONDS)


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
