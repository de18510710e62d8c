"""Test helpers: a job view plus a durable consumer that reads only that job's events.

Tests share one nats-server, and a later test may subscribe the real stage durables,
which read the stream from its start: `forget_jobs` deletes this user's job views so
those stages skip these jobs' events instead of working on them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared import subjects
from shared.broker import ConsumerSpec, consumer_config
from shared.events import JobConfig, JobContext, RenderError, SceneRenderFailed
from shared.jobview import JobView
from shared.runtime import Handler
from shared.service import StageDeps


@dataclass(frozen=True)
class OneJobConsumer(ConsumerSpec):
    """A consumer filtered on one job, so tests sharing a server stay independent."""

    job_id: str = ""

    @property
    def filter_subject(self) -> str:
        return subjects.event_subject(self.job_id, self.event_type or ">")


USER = "tester"


async def forget_jobs(deps: StageDeps) -> None:
    """Delete every job view of the test user."""
    for view in await deps.jobs.list_for_user(USER):
        await deps.jobs.delete(USER, view.job_id)


async def new_job(deps: StageDeps, **view: Any) -> SceneRenderFailed:
    """Store a fresh job's view; return an event of that job for a handler to take."""
    job_id = str(uuid.uuid4())
    await deps.jobs.create(
        JobView(job_id=job_id, user_id=USER, config=JobConfig(topic="t", context="c"), **view)
    )
    return SceneRenderFailed(
        job_id=job_id,
        user_id=USER,
        context=JobContext(quality="low", scene_model="builtin"),
        scene_number=1,
        scene_count=1,
        attempt=1,
        class_name="S",
        code_ref="x",
        plan_ref="y",
        error=RenderError(kind="crash", message="boom"),
    )


async def consume(
    deps: StageDeps,
    event: SceneRenderFailed,
    handler: Handler[SceneRenderFailed],
    *,
    stage: str = "rendering",
) -> OneJobConsumer:
    """Subscribe `handler` through the stage runner on a fresh durable for `event`'s job."""
    spec = OneJobConsumer(f"test-{event.job_id[:8]}", event.type, job_id=event.job_id)
    config = consumer_config(spec, deps.settings)
    config.filter_subject = spec.filter_subject
    await deps.js.add_consumer(subjects.STREAM, config=config)
    deps.runner.subscribe(deps.broker, spec, SceneRenderFailed, handler, stage=stage)
    return spec
