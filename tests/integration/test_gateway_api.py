"""The gateway's REST contract against a real nats-server: validation, errors, auth, jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.state import Gateway
from shared import subjects
from shared.events import JobCancelled, decode
from shared.plans import DEFAULT_TARGET_MINUTES
from shared.settings import Settings

GENERATE = "/api/v1/videos/generate"
REQUEST = {
    "configuration": {
        "topic": "Pythagorean theorem",
        "context": "Explain a² + b² = c² with a right triangle.",
    }
}
ALICE, BOB = {"Authorization": "Bearer key-alice"}, {"Authorization": "Bearer key-bob"}

GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def opened_gateway(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (NATS, projector), and a client calling it in-process."""
    app = create_app(dataclasses.replace(settings, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
def open_gateway(settings: Settings) -> GatewayFactory:
    """Opens the app on the test's settings with overrides (API keys, limits)."""
    return lambda **overrides: opened_gateway(settings, **overrides)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened_gateway(settings) as client:
        yield client


def fresh_users(*keys: str) -> dict[str, str]:
    """API keys of users no other test has used: the session's KV outlives each test."""
    return {key: f"{key.removeprefix('key-')}-{uuid.uuid4().hex[:8]}" for key in keys}


def gateway_of(client: httpx.AsyncClient) -> Gateway:
    app: FastAPI = client.app  # type: ignore[attr-defined]
    return app.state.gateway


async def submit(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.post(GENERATE, json=REQUEST, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


async def wait_for_status(
    client: httpx.AsyncClient,
    job_id: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Polls /status until `done` holds: the projector works asynchronously."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await client.get(f"/api/v1/videos/jobs/{job_id}/status")).json()
        if done(body):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.05)


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["message"]
    assert body["error"]["code"] == code and body["error"]["message"]
    assert body["error"]["timestamp"].endswith("Z")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_generate_answers_201_with_a_queued_job(client: httpx.AsyncClient) -> None:
    response = await client.post(GENERATE, json=REQUEST)
    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["job_id"]).version == 4
    assert body["status"] == "queued" and body["priority"] == "normal"
    assert body["batch_id"] is None
    assert body["progress"] == {
        "percentage": 0.0,
        "current_stage": "queued",
        "stages_completed": [],
        "estimated_completion": body["estimated_completion"],
        "processing_time_seconds": None,
    }
    assert body["created_at"].endswith("Z") and body["estimated_completion"].endswith("Z")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**REQUEST, "surprise": 1}, "surprise"),
        ({"configuration": {**REQUEST["configuration"], "colour": "red"}}, "configuration.colour"),
        (
            {"configuration": {**REQUEST["configuration"], "topic": "x" * 501}},
            "configuration.topic",
        ),
        ({"configuration": {**REQUEST["configuration"], "quality": 5}}, "configuration.quality"),
        (
            {"configuration": {**REQUEST["configuration"], "use_rag": "maybe"}},
            "configuration.use_rag",
        ),
        (
            {"configuration": {**REQUEST["configuration"], "output_format": "gif"}},
            "configuration.output_format",
        ),
        ({**REQUEST, "priority": "asap"}, "priority"),
        (
            {"configuration": {**REQUEST["configuration"], "custom_config": {"fps": 60}}},
            "configuration.custom_config",
        ),
        (
            {"configuration": {**REQUEST["configuration"], "template_id": "t1"}},
            "configuration.template_id",
        ),
        (
            {"configuration": {**REQUEST["configuration"], "style_preferences": {"a": [1]}}},
            "configuration.style_preferences",
        ),
        ({"configuration": {"topic": "only a topic"}}, "configuration.context"),
        *[
            (
                {"configuration": {**REQUEST["configuration"], "target_minutes": minutes}},
                "configuration.target_minutes",
            )
            for minutes in (0, 0.4, -1, 10.5, 60, "long", None)
        ],
    ],
)
async def test_generate_rejects_invalid_requests(
    client: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    body = assert_error_shape(await client.post(GENERATE, json=payload), 422, "VALIDATION_ERROR")
    errors = body["error"]["details"]["field_errors"]
    assert field in [error["field"] for error in errors]
    assert all(set(error) == {"field", "message", "type"} for error in errors)


@pytest.mark.parametrize(
    ("minutes", "stored"), [(None, DEFAULT_TARGET_MINUTES), (3, 3.0), (10, 10.0)]
)
async def test_target_minutes_reaches_the_job_config(
    client: httpx.AsyncClient, minutes: float | None, stored: float
) -> None:
    configuration: dict[str, object] = dict(REQUEST["configuration"])
    if minutes is not None:
        configuration["target_minutes"] = minutes
    response = await client.post(GENERATE, json={"configuration": configuration})
    assert response.status_code == 201, response.text
    view = await gateway_of(client).deps.jobs.get("local", response.json()["job_id"])
    assert view is not None and view.config.target_minutes == stored


async def test_generate_rejects_a_non_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        GENERATE, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error_shape(response, 400, "VALIDATION_ERROR")


async def test_generate_rejects_a_body_over_the_limit(client: httpx.AsyncClient) -> None:
    huge = json.dumps({"configuration": {"topic": "t", "context": "x" * 1_000_000}}).encode()
    assert_error_shape(await client.post(GENERATE, content=huge), 413, "PAYLOAD_TOO_LARGE")

    async def unannounced() -> AsyncIterator[bytes]:  # streamed: no Content-Length to trust
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    assert_error_shape(await client.post(GENERATE, content=unannounced()), 413, "PAYLOAD_TOO_LARGE")


async def test_unknown_routes_and_methods_use_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_error_shape(await client.delete(GENERATE), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "job_id",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "a" * 10_000,
        str(uuid.uuid4()),
        "not-a-uuid",
    ],
)
async def test_unknown_or_hostile_job_ids_are_404(client: httpx.AsyncClient, job_id: str) -> None:
    for path in (
        f"/api/v1/videos/jobs/{job_id}/status",
        f"/api/v1/jobs/{job_id}",
        f"/api/v1/videos/jobs/{job_id}/stream",
    ):
        assert_error_shape(await client.get(path), 404, "NOT_FOUND")


async def test_request_ids_are_echoed_when_sane(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-42.a_b"})
    assert echoed.headers["x-request-id"] == "trace-42.a_b"
    replaced = await client.get("/health", headers={"X-Request-ID": "evil\tvalue" + "x" * 200})
    assert replaced.headers["x-request-id"] not in ("", "evil\tvalue" + "x" * 200)
    missing = await client.get("/api/v1/nothing-here", headers={"X-Request-ID": "r-1"})
    assert missing.json()["request_id"] == "r-1"


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["stream"] == subjects.STREAM
    assert (await client.get("/openapi.json")).json()["paths"][GENERATE]


async def test_api_keys_are_required_when_configured(open_gateway: GatewayFactory) -> None:
    async with open_gateway(api_keys={"key-alice": "alice"}) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic a2V5"}):
            response = await client.post(GENERATE, json=REQUEST, headers=headers)
            assert_error_shape(response, 401, "UNAUTHORIZED")
            assert response.headers["www-authenticate"] == "Bearer"
        assert (await client.post(GENERATE, json=REQUEST, headers=ALICE)).status_code == 201


async def test_users_cannot_see_each_others_jobs(open_gateway: GatewayFactory) -> None:
    async with open_gateway(api_keys=fresh_users("key-alice", "key-bob")) as client:
        alices = await submit(client, **ALICE)
        bobs = await submit(client, **BOB)
        for request in (
            client.get(f"/api/v1/videos/jobs/{alices}/status", headers=BOB),
            client.get(f"/api/v1/jobs/{alices}", headers=BOB),
            client.post(f"/api/v1/jobs/{alices}/cancel", headers=BOB),
            client.delete(f"/api/v1/jobs/{alices}", headers=BOB),
        ):
            assert_error_shape(await request, 404, "NOT_FOUND")
        listed = (await client.get("/api/v1/jobs", headers=BOB)).json()
        assert [job["job_id"] for job in listed["jobs"]] == [bobs]
        status = await client.get(f"/api/v1/videos/jobs/{alices}/status", headers=ALICE)
        assert status.json()["status"] == "queued"


async def test_idempotency_key_returns_the_first_job(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = await client.post(GENERATE, json=REQUEST, headers=headers)
    again = await client.post(GENERATE, json=REQUEST, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["job_id"] == first.json()["job_id"]
    other = await client.post(GENERATE, json=REQUEST, headers={"Idempotency-Key": "another"})
    assert other.status_code == 201 and other.json()["job_id"] != first.json()["job_id"]


async def test_cancel_then_cancel_again_conflicts(client: httpx.AsyncClient) -> None:
    job_id = await submit(client)
    response = await client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["job_id"] == job_id
    assert (body["previous_status"], body["new_status"]) == ("queued", "cancelled")
    assert body["cancelled_at"].endswith("Z")
    assert_error_shape(await client.post(f"/api/v1/jobs/{job_id}/cancel"), 409, "CONFLICT")
    status = (await client.get(f"/api/v1/jobs/{job_id}")).json()
    assert status["status"] == "cancelled" and status["completed_at"] is not None

    last = await gateway_of(client).deps.js.get_last_msg(
        subjects.STREAM, subjects.event_subject(job_id, JobCancelled.type)
    )
    assert isinstance(decode(last.data or b""), JobCancelled)


async def test_media_of_an_unfinished_job_conflicts(client: httpx.AsyncClient) -> None:
    job_id = await submit(client)
    for route in ("video-url", "stream", "download", "metadata", "thumbnail"):
        response = await client.get(f"/api/v1/videos/jobs/{job_id}/{route}")
        body = assert_error_shape(response, 409, "CONFLICT")
        assert body["error"]["details"] == {
            "status": "queued",
            "progress": 0.0,
            "current_stage": "queued",
        }


async def test_list_jobs_pages_and_filters(open_gateway: GatewayFactory) -> None:
    async with open_gateway(api_keys=fresh_users("key-alice")) as client:
        client.headers.update(ALICE)
        created = [await submit(client) for _ in range(3)]
        await client.post(f"/api/v1/jobs/{created[0]}/cancel")
        page = (await client.get("/api/v1/jobs", params={"items_per_page": 2})).json()
        assert [job["job_id"] for job in page["jobs"]] == created[:0:-1]
        assert (page["total_count"], page["has_next"], page["has_previous"]) == (3, True, False)
        second = (await client.get("/api/v1/jobs", params={"items_per_page": 2, "page": 2})).json()
        assert [job["job_id"] for job in second["jobs"]] == created[:1]
        assert second["has_previous"] is True
        cancelled = (await client.get("/api/v1/jobs", params={"status": "cancelled"})).json()
        assert [job["job_id"] for job in cancelled["jobs"]] == created[:1]
        too_many = await client.get("/api/v1/jobs", params={"items_per_page": 101})
        assert_error_shape(too_many, 422, "VALIDATION_ERROR")


async def test_delete_cancels_and_removes_the_job(client: httpx.AsyncClient) -> None:
    job_id = await submit(client)
    response = await client.delete(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    assert_error_shape(await client.get(f"/api/v1/jobs/{job_id}"), 404, "NOT_FOUND")
    last = await gateway_of(client).deps.js.get_last_msg(
        subjects.STREAM, subjects.event_subject(job_id, JobCancelled.type)
    )
    assert msgspec.json.decode(last.data or b"")["event_type"] == "job.cancelled"
