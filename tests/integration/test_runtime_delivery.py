"""Delivery rules of `StageRunner` on a real nats-server: acks, retries, failure, skipping."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from nats.js import api as js_api

from shared import subjects
from shared.broker import ConsumerSpec, consumer_config
from shared.errors import PermanentError, TransientError
from shared.events import (
    JobConfig,
    JobContext,
    JobFailed,
    RenderError,
    SceneRenderFailed,
    decode,
)
from shared.jobview import JobView
from shared.service import StageDeps, connected
from shared.settings import Settings

Handler = Callable[[SceneRenderFailed], Awaitable[None]]


@dataclass(frozen=True)
class OneJobConsumer(ConsumerSpec):
    """A test consumer that reads one job's events only, so tests stay independent."""

    job_id: str = ""

    @property
    def filter_subject(self) -> str:
        return subjects.event_subject(self.job_id, self.event_type or ">")


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[StageDeps]:
    fast = Settings(**{**settings.__dict__, "max_deliver": 3, "ack_wait_seconds": 2.0})
    async with connected("test", fast) as stage:
        yield stage


async def _job(deps: StageDeps, **view: object) -> SceneRenderFailed:
    job_id = str(uuid.uuid4())
    await deps.jobs.create(
        JobView(job_id=job_id, user_id="tester", config=JobConfig(topic="t", context="c"), **view)
    )
    return SceneRenderFailed(
        job_id=job_id, user_id="tester", context=JobContext(quality="low", scene_model="builtin"),
        scene_number=1, scene_count=1, attempt=1, class_name="S", code_ref="x", plan_ref="y",
        error=RenderError(kind="crash", message="boom"),
    )


async def _consume(deps: StageDeps, event: SceneRenderFailed, handler: Handler) -> ConsumerSpec:
    """Subscribe `handler` on a fresh durable that reads only this event's job."""
    spec = OneJobConsumer(f"test-{event.job_id[:8]}", event.type, job_id=event.job_id)
    config = consumer_config(spec, deps.settings)
    config.filter_subject = spec.filter_subject
    await deps.js.add_consumer(subjects.STREAM, config=config)
    deps.runner.subscribe(deps.broker, spec, SceneRenderFailed, handler, stage="rendering")
    await deps.broker.start()
    return spec


async def _run(deps: StageDeps, event: SceneRenderFailed, handler: Handler) -> ConsumerSpec:
    spec = await _consume(deps, event, handler)
    await deps.bus.publish(event)
    return spec


async def _failure(deps: StageDeps, job_id: str, timeout: float = 20) -> JobFailed | None:
    subscription = await deps.js.subscribe(
        subjects.event_subject(job_id, JobFailed.type),
        ordered_consumer=True,
        deliver_policy=js_api.DeliverPolicy.ALL,
    )
    try:
        message = await subscription.next_msg(timeout=timeout)
    except TimeoutError:
        return None
    finally:
        await subscription.unsubscribe()
    event = decode(message.data)
    assert isinstance(event, JobFailed)
    return event


async def test_transient_error_is_retried_until_it_succeeds(deps: StageDeps):
    calls: list[float] = []
    done = asyncio.Event()

    async def flaky(event: SceneRenderFailed) -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) < 3:
            raise TransientError("dependency down")
        done.set()

    event = await _job(deps)
    await _run(deps, event, flaky)
    await asyncio.wait_for(done.wait(), 30)
    assert len(calls) == 3
    # nak delays: 1 s then 2 s nominal, jittered to at least half of that
    assert calls[1] - calls[0] >= 0.45
    assert calls[2] - calls[1] >= 0.95
    assert await _failure(deps, event.job_id, timeout=1) is None


async def test_permanent_error_fails_the_job_once(deps: StageDeps):
    calls = 0

    async def broken(event: SceneRenderFailed) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("cannot", code="RENDER_FAILED", suggestion="simplify")

    event = await _job(deps)
    await _run(deps, event, broken)
    failed = await _failure(deps, event.job_id)
    assert failed is not None
    assert (failed.error.code, failed.error.stage, failed.error.suggestion) == (
        "RENDER_FAILED", "rendering", "simplify",
    )
    await asyncio.sleep(3)
    assert calls == 1


async def test_exhausted_retries_fail_the_job_with_attempts(deps: StageDeps):
    async def always_down(event: SceneRenderFailed) -> None:
        raise RuntimeError("still down")

    event = await _job(deps)
    await _run(deps, event, always_down)
    failed = await _failure(deps, event.job_id, timeout=30)
    assert failed is not None
    assert failed.error.code == "INTERNAL_ERROR"
    assert failed.error.attempts == 3
    assert "still down" in failed.error.message


async def test_work_on_a_cancelled_job_is_skipped(deps: StageDeps):
    calls = 0

    async def handler(event: SceneRenderFailed) -> None:
        nonlocal calls
        calls += 1

    event = await _job(deps, status="cancelled")
    spec = await _run(deps, event, handler)
    await asyncio.sleep(2)
    info = await deps.js.consumer_info(subjects.STREAM, spec.durable)
    assert calls == 0
    assert info.num_ack_pending == 0 and info.delivered.stream_seq > 0


async def test_malformed_event_is_terminated(deps: StageDeps):
    calls = 0

    async def handler(event: SceneRenderFailed) -> None:
        nonlocal calls
        calls += 1

    event = await _job(deps)
    spec = await _consume(deps, event, handler)
    await deps.js.publish(subjects.event_subject(event.job_id, event.type), b'{"broken": ')
    await asyncio.sleep(3)
    info = await deps.js.consumer_info(subjects.STREAM, spec.durable)
    assert calls == 0
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
