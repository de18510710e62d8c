"""Delivery rules of `StageRunner` on a real nats-server: acks, retries, failure, skipping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.js import api as js_api

from shared import subjects
from shared.broker import ConsumerSpec
from shared.errors import PermanentError, TransientError
from shared.events import JobFailed, SceneRenderFailed, decode
from shared.runtime import Handler
from shared.service import StageDeps, connected
from shared.settings import Settings
from tests.integration.onejob import consume, forget_jobs, new_job


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[StageDeps]:
    fast = Settings(**{**settings.__dict__, "max_deliver": 3, "ack_wait_seconds": 2.0})
    async with connected("test", fast) as stage:
        yield stage
        await forget_jobs(stage)


async def _run(
    deps: StageDeps, event: SceneRenderFailed, handler: Handler[SceneRenderFailed]
) -> ConsumerSpec:
    spec = await consume(deps, event, handler)
    await deps.broker.start()
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

    event = await new_job(deps)
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

    event = await new_job(deps)
    await _run(deps, event, broken)
    failed = await _failure(deps, event.job_id)
    assert failed is not None
    assert (failed.error.code, failed.error.stage, failed.error.suggestion) == (
        "RENDER_FAILED",
        "rendering",
        "simplify",
    )
    await asyncio.sleep(3)
    assert calls == 1


async def test_exhausted_retries_fail_the_job_with_attempts(deps: StageDeps):
    async def always_down(event: SceneRenderFailed) -> None:
        raise RuntimeError("still down")

    event = await new_job(deps)
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

    event = await new_job(deps, status="cancelled")
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

    event = await new_job(deps)
    spec = await consume(deps, event, handler)
    await deps.broker.start()
    await deps.js.publish(subjects.event_subject(event.job_id, event.type), b'{"broken": ')
    await asyncio.sleep(3)
    info = await deps.js.consumer_info(subjects.STREAM, spec.durable)
    assert calls == 0
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
