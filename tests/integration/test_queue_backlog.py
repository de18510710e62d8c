"""`/system/queue` and the 429's Retry-After count the render backlog on a real nats-server:
scenes waiting on the renderer's durable with no renderer listening, while no job is queued."""

from __future__ import annotations

import dataclasses
import uuid

from services.gateway.workload import DEFAULT_RENDER_SECONDS
from shared.events import JobContext, SceneCoded
from shared.service import connected
from shared.settings import Settings
from tests.integration.test_gateway_api import GENERATE, REQUEST, opened_gateway
from videogen.natsd import NatsServer

WAITING = 12


async def test_backlog_of_waiting_scenes_sets_wait_and_retry_after(
    settings: Settings, private_nats_server: NatsServer
) -> None:
    settings = dataclasses.replace(settings, nats_url=private_nats_server.url, max_queued_jobs=1)
    async with connected("backlog-test", settings) as deps:
        job_id = str(uuid.uuid4())  # no view: nothing else takes an interest in it
        for scene in range(1, WAITING + 1):
            await deps.bus.publish(
                SceneCoded(
                    job_id=job_id,
                    user_id="someone",
                    context=JobContext(quality="low", scene_model="builtin"),
                    scene_number=scene,
                    scene_count=WAITING,
                    attempt=1,
                    class_name="S",
                    code_ref="c",
                    plan_ref="p",
                    model="builtin",
                )
            )
    async with opened_gateway(settings) as client:
        queue = (await client.get("/api/v1/system/queue")).json()
        assert queue["render_backlog"] == {
            "scenes_waiting": WAITING,
            "scenes_rendering": 0,
            "render_slots": 0,
            "render_seconds_per_scene": DEFAULT_RENDER_SECONDS,
            "backlog_seconds": WAITING * DEFAULT_RENDER_SECONDS,
        }
        assert queue["stages"]["renderer"]["pending"] == WAITING
        assert queue["estimated_wait_seconds"]["low"] == WAITING * DEFAULT_RENDER_SECONDS

        accepted = await client.post(GENERATE, json=REQUEST)
        assert accepted.status_code == 201, accepted.text
        refused = await client.post(GENERATE, json=REQUEST)
        assert refused.status_code == 429, refused.text
        # One active job: its renders wait behind the whole backlog, not a constant 90 s.
        assert int(refused.headers["Retry-After"]) == round(WAITING * DEFAULT_RENDER_SECONDS)
