"""`GET /jobs/{id}/events` and `POST /jobs/{id}/replay` against a real nats-server:
the owner's timeline and replay (the CLI's semantics), another user's 404, bad input's 422."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from typing import TypedDict

import httpx
import pytest
import uvicorn

from shared.events import (
    Event,
    JobConfig,
    JobContext,
    JobRequested,
    ProgressReported,
    RenderError,
    SceneCoded,
    ScenePlanned,
    SceneRenderFailed,
)
from shared.history import read_job
from shared.jobview import JobView
from shared.settings import Settings
from tests.integration.test_gateway_api import (
    ALICE,
    BOB,
    assert_error_shape,
    fresh_users,
    gateway_of,
    opened_gateway,
)

CONTEXT = JobContext(quality="low", scene_model="builtin")


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    users = fresh_users("key-alice", "key-bob")
    async with opened_gateway(settings, api_keys=users) as client:
        yield client, users


class _Owned(TypedDict):
    job_id: str
    user_id: str


class _Scene(_Owned):
    context: JobContext
    scene_number: int
    scene_count: int


class _Code(_Scene):
    class_name: str
    plan_ref: str
    model: str


def _history(job_id: str, user: str) -> list[Event]:
    """A job whose only scene failed to render twice."""
    common: _Owned = {"job_id": job_id, "user_id": user}
    scene: _Scene = {**common, "context": CONTEXT, "scene_number": 1, "scene_count": 1}
    code: _Code = {**scene, "class_name": "S", "plan_ref": "plan", "model": "builtin"}
    failure = RenderError(kind="timeout", message="took too long")
    return [
        JobRequested(**common, config=JobConfig(topic="t", context="c"), context=CONTEXT),
        ProgressReported(**common, stage="planning", percentage=15, description="planning"),
        ScenePlanned(**scene, title="One", plan_ref="plan"),
        SceneCoded(**code, attempt=1, code_ref="code-1"),
        SceneRenderFailed(
            **scene, attempt=1, class_name="S", code_ref="code-1", plan_ref="plan", error=failure
        ),
        SceneCoded(**code, attempt=2, code_ref="code-2"),
        SceneRenderFailed(
            **scene, attempt=2, class_name="S", code_ref="code-2", plan_ref="plan", error=failure
        ),
    ]


async def _recorded_job(client: httpx.AsyncClient, user: str) -> tuple[str, list[Event]]:
    deps = gateway_of(client).deps
    job_id = str(uuid.uuid4())
    await deps.jobs.create(
        JobView(
            job_id=job_id,
            user_id=user,
            status="failed",
            current_stage="rendering",
            config=JobConfig(topic="t", context="c"),
        )
    )
    history = _history(job_id, user)
    for event in history:
        await deps.bus.publish(event)
    return job_id, history


async def test_owner_reads_the_timeline_another_user_gets_404(gateway) -> None:
    client, users = gateway
    job_id, history = await _recorded_job(client, users["key-alice"])

    response = await client.get(f"/api/v1/jobs/{job_id}/events", headers=ALICE)
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [entry["event_type"] for entry in events] == [event.type for event in history]
    assert [entry["attempt"] for entry in events][-4:] == [1, 1, 2, 2]
    assert events[-1]["detail"] == "timeout: took too long"
    assert events[0]["seconds_since_previous"] is None
    assert all(entry["seconds_since_previous"] >= 0 for entry in events[1:])

    for path in ("events", "replay"):
        method = client.get if path == "events" else client.post
        kwargs = {} if path == "events" else {"json": {"from": "scene.coded", "scene": 1}}
        refused = await method(f"/api/v1/jobs/{job_id}/{path}", headers=BOB, **kwargs)
        assert_error_shape(refused, 404, "NOT_FOUND")
        assert job_id not in refused.text


async def test_replay_is_the_clis_replay(gateway) -> None:
    client, users = gateway
    job_id, _ = await _recorded_job(client, users["key-alice"])
    url = f"/api/v1/jobs/{job_id}/replay"

    refused = await client.post(url, json={"from": "scene.coded", "scene": 1}, headers=ALICE)
    body = assert_error_shape(refused, 409, "CONFLICT")
    assert "reopen" in body["error"]["message"]  # stages skip a failed job

    response = await client.post(
        url, json={"from": "scene.coded", "scene": 1, "reopen": True}, headers=ALICE
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["attempt"] == 3 and done["reopened"] is True
    assert done["message_id"] == f"{job_id}:scene.coded:1:3"
    records = await read_job(gateway_of(client).deps.js, job_id)
    replayed = records[-1].event
    assert isinstance(replayed, SceneCoded) and (replayed.attempt, replayed.code_ref) == (
        3,
        "code-2",
    )
    assert records[-1].sequence == done["sequence"]
    view = await gateway_of(client).deps.jobs.get(users["key-alice"], job_id)
    assert view is not None and (view.status, view.current_stage) == ("processing", "rendering")

    again = await client.post(url, json={"from": "scene.coded", "scene": 1}, headers=ALICE)
    assert again.status_code == 200 and again.json()["attempt"] == 4  # never a duplicate


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"from": "job.cancelled"}, "from"),
        ({"from": "no.such.event"}, "from"),
        ({}, "from"),
        ({"from": "scene.coded", "scene": 0}, "scene"),
        ({"from": "scene.coded", "surprise": True}, "surprise"),
    ],
)
async def test_bad_replay_requests_are_422(gateway, payload: dict, field: str) -> None:
    client, users = gateway
    job_id, _ = await _recorded_job(client, users["key-alice"])
    response = await client.post(f"/api/v1/jobs/{job_id}/replay", json=payload, headers=ALICE)
    body = assert_error_shape(response, 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in body["error"]["details"]["field_errors"]]


async def test_cli_reaches_the_routes_with_url(gateway, unused_tcp_port: int) -> None:
    """`videogen events/replay --url` as separate processes, against the app served by uvicorn."""
    client, users = gateway
    job_id, history = await _recorded_job(client, users["key-alice"])
    app = client.app
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=unused_tcp_port, lifespan="off", log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        base = ["--url", f"http://127.0.0.1:{unused_tcp_port}", "--api-key", "key-alice"]
        code, out, err = await _videogen("events", job_id, *base)
        assert code == 0, err
        header, *rows = out.strip().splitlines()
        assert header.split()[:3] == ["seq", "time", "(UTC)"]
        assert [row.split()[3] for row in rows] == [event.type for event in history]

        code, _, err = await _videogen(
            "replay", job_id, "--from", "scene.coded", "--scene", "1", *base
        )
        assert code == 2 and "--reopen" in err
        code, out, err = await _videogen(
            "replay", job_id, "--from", "scene.coded", "--scene", "1", "--reopen", *base
        )
        assert code == 0, err
        assert out.strip() == f"{job_id}:scene.coded:1:3"

        code, _, err = await _videogen("events", job_id, "--url", base[1], "--api-key", "key-bob")
        assert code == 1 and "404" in err
    finally:
        server.should_exit = True
        await serving


async def _videogen(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "videogen",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()
