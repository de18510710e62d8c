"""Events on the real bus → the job view → `/status` and `/logs`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shared.events import (
    JobContext,
    JobError,
    JobFailed,
    ProgressReported,
    RenderError,
    ScenePlanned,
    SceneRenderFailed,
)
from shared.settings import Settings
from tests.integration.test_gateway_api import (
    gateway_of,
    opened_gateway,
    submit,
    wait_for_status,
)

CONTEXT = JobContext(quality="medium", scene_model="builtin")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened_gateway(settings) as client:
        yield client


async def test_progress_events_show_up_in_status(client: httpx.AsyncClient) -> None:
    job_id = await submit(client)
    bus = gateway_of(client).deps.bus
    source = ProgressReported(
        job_id=job_id, user_id="local", stage="queued", percentage=0, description=""
    )
    for stage in ("initializing", "planning", "scenario_creation"):
        await bus.progress(source, stage)
    await bus.publish(
        ScenePlanned(
            job_id=job_id,
            user_id="local",
            context=CONTEXT,
            scene_number=1,
            scene_count=1,
            title="Right triangles",
            plan_ref="plan",
        )
    )

    body = await wait_for_status(
        client,
        job_id,
        lambda body: (
            body["progress"]["current_stage"] == "scenario_creation" and len(body["scenes"]) == 1
        ),
    )
    assert body["status"] == "processing"
    assert body["progress"]["percentage"] == 30
    assert body["progress"]["stages_completed"] == ["initializing", "planning"]
    assert body["progress"]["processing_time_seconds"] is not None
    assert [stage["stage"] for stage in body["stages"]] == [
        "initializing",
        "planning",
        "scenario_creation",
    ]
    first, _, current = body["stages"]
    assert first["started_at"].endswith("Z") and first["finished_at"].endswith("Z")
    assert first["duration_seconds"] >= 0
    assert current["finished_at"] is None and current["duration_seconds"] is None
    assert body["scenes"][0] == {
        "scene_number": 1,
        "status": "planned",
        "attempts": 0,
        "title": "Right triangles",
        "last_error": None,
        "duration_seconds": None,
        "model": None,
        "fallback_reason": None,
        "voice": None,
        "speech_seconds": None,
        "warnings": [],
    }
    assert body["usage"]["calls"] == 0 and body["fallbacks"] == []


async def test_failed_job_reports_its_error_and_logs(client: httpx.AsyncClient) -> None:
    job_id = await submit(client)
    bus = gateway_of(client).deps.bus
    source = ProgressReported(
        job_id=job_id, user_id="local", stage="queued", percentage=0, description=""
    )
    await bus.progress(source, "initializing")
    await bus.progress(source, "rendering", scene=2)
    await bus.publish(
        SceneRenderFailed(
            job_id=job_id,
            user_id="local",
            context=CONTEXT,
            scene_number=2,
            scene_count=2,
            attempt=1,
            class_name="Scene2",
            code_ref="code",
            plan_ref="plan",
            error=RenderError(kind="crash", message="NameError: name 'Foo' is not defined"),
        )
    )
    error = JobError(
        code="RENDER_FAILED",
        stage="rendering",
        message="Scene 2 never rendered",
        suggestion="Simplify the topic",
        attempts=3,
        details={"scene": 2},
    )
    await bus.publish(JobFailed(job_id=job_id, user_id="local", error=error))

    body = await wait_for_status(client, job_id, lambda body: body["status"] == "failed")
    assert body["error"] == {
        "code": "RENDER_FAILED",
        "stage": "rendering",
        "message": "Scene 2 never rendered",
        "recoverable": False,
        "suggestion": "Simplify the topic",
        "attempts": 3,
        "details": {"scene": 2},
    }
    assert body["progress"]["stages_completed"] == ["initializing"]
    assert body["scenes"][0]["status"] == "failed"

    logs = (await client.get(f"/api/v1/jobs/{job_id}/logs")).json()
    assert [(line["level"], line["stage"], line["message"]) for line in logs["logs"]] == [
        ("info", "queued", "Job requested: 'Pythagorean theorem' (medium quality, model builtin)"),
        ("info", "initializing", "Initializing video generation"),
        ("info", "rendering", "Rendering scenes (scene 2)"),
        (
            "error",
            "rendering",
            "Scene 2 failed to render (attempt 1): NameError: name 'Foo' is not defined",
        ),
        ("error", "rendering", "Job failed (RENDER_FAILED): Scene 2 never rendered"),
    ]
    assert logs["pagination"] == {
        "offset": 0,
        "limit": 100,
        "total_count": 5,
        "returned_count": 5,
        "has_more": False,
    }
    errors = (
        await client.get(
            f"/api/v1/jobs/{job_id}/logs", params={"level": "error", "limit": 1, "offset": 1}
        )
    ).json()
    assert [line["message"] for line in errors["logs"]] == [
        "Job failed (RENDER_FAILED): Scene 2 never rendered"
    ]
    assert errors["pagination"]["has_more"] is False and errors["pagination"]["total_count"] == 2


async def test_two_gateway_replicas_agree_and_share_the_projection(settings: Settings) -> None:
    """Replicas share the projector's durable (each event projected once) and one KV view."""
    async with opened_gateway(settings) as first, opened_gateway(settings) as second:
        job_id = await submit(first)
        bus = gateway_of(second).deps.bus
        source = ProgressReported(
            job_id=job_id, user_id="local", stage="queued", percentage=0, description=""
        )
        for stage in ("initializing", "planning", "scenario_creation", "code_generation"):
            await bus.progress(source, stage)
        # Eventually consistent: each replica projects a share of the events.
        done = lambda body: len(body["stages"]) == 4  # noqa: E731
        seen_first = await wait_for_status(first, job_id, done)
        seen_second = await wait_for_status(second, job_id, done)
        assert seen_first["stages"] == seen_second["stages"]
        assert [s["stage"] for s in seen_first["stages"]] == [
            "initializing",
            "planning",
            "scenario_creation",
            "code_generation",
        ]
        queue = (await second.get("/api/v1/system/queue")).json()
        assert queue["jobs"]["processing"] >= 1  # the other replica's job, seen via the KV watch
