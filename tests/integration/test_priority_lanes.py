"""Priority lanes on a real nats-server: a high or urgent job's work has a consumer of its
own, so it is taken at once even while the normal lane has a backlog."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from nats.js import api as js_api

from shared import subjects
from shared.broker import ConsumerSpec, consumer_config
from shared.events import PRIORITY_LANE, SceneRenderFailed
from shared.service import StageDeps, connected
from shared.settings import Settings
from tests.integration.onejob import forget_jobs, new_job


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[StageDeps]:
    async with connected("lanes-test", settings) as stage:
        yield stage
        await forget_jobs(stage)


async def _lane(deps: StageDeps, durable: str, lane: str | None) -> ConsumerSpec:
    """A fresh durable on scene.render_failed that sees only events published from now on."""
    spec = ConsumerSpec(durable, subjects.SCENE_RENDER_FAILED, lane=lane)
    config = consumer_config(spec, deps.settings)
    config.deliver_policy = js_api.DeliverPolicy.NEW
    await deps.js.add_consumer(subjects.STREAM, config=config)
    return spec


async def _until(check: object, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_urgent_work_passes_a_normal_backlog(deps: StageDeps):
    name = f"lanes-{uuid.uuid4().hex[:8]}"
    normal_lane = await _lane(deps, name, None)
    priority_lane = await _lane(deps, f"{name}-priority", PRIORITY_LANE)
    release = asyncio.Event()
    handled: list[str] = []

    async def handle(event: SceneRenderFailed) -> None:
        handled.append(event.job_id)
        if event.context.priority == "normal":
            await release.wait()  # a long render: the normal lane is busy

    for spec in (normal_lane, priority_lane):
        deps.runner.subscribe(deps.broker, spec, SceneRenderFailed, handle, stage="rendering")
    await deps.broker.start()
    backlog = [await new_job(deps) for _ in range(3)]
    plain = await new_job(deps)
    urgent = msgspec.structs.replace(
        plain, context=msgspec.structs.replace(plain.context, priority="urgent")
    )
    for event in (*backlog, urgent):
        await deps.bus.publish(event)

    await _until(lambda: urgent.job_id in handled)
    assert handled == [backlog[0].job_id, urgent.job_id]  # the backlog still waits
    release.set()
    await _until(lambda: len(handled) == 4)
    await asyncio.sleep(1)  # a duplicate delivery to the other lane would show up now
    assert sorted(handled) == sorted([*(e.job_id for e in backlog), urgent.job_id])
