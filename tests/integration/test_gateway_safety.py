"""Safer API defaults, stored-video integrity and secret-free error text (real nats-server)."""

from __future__ import annotations

import io
import logging
import os
import site
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from shared.errors import PermanentError
from shared.events import JobContext, RenderError, SceneRenderFailed
from shared.history import read_job
from shared.logs import JsonFormatter
from shared.service import connected
from shared.settings import Secret, Settings
from shared.videostore import LocalVideoStore, object_key
from tests.conftest import NatsServer
from tests.integration.onejob import consume
from tests.integration.test_gateway_api import (
    GENERATE,
    REQUEST,
    assert_error_shape,
    gateway_of,
    opened_gateway,
    wait_for_status,
)
from tests.integration.test_gateway_media import completed_job  # noqa: F401 (fixture)
from videogen.stack import free_port

CANARY = "sk-canary-3b9e1f0c7d"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened_gateway(settings) as client:
        yield client


# --- 9.7: safer defaults -------------------------------------------------------------


def _start_gateway(nats_server: NatsServer, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "ALLOW_ANONYMOUS")}
    port = env.pop("port")
    environ.update(
        NATS_URL=nats_server.url,
        DATA_DIR=str(tmp_path / "data"),
        GATEWAY_PORT=port,
        METRICS_PORT="0",
        **env,
    )
    with (tmp_path / f"gateway-{port}.log").open("w") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            env=environ,
            text=True,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _serves(port: str, process: subprocess.Popen[str], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            time.sleep(0.2)
    return False


def test_an_exposed_gateway_without_keys_refuses_to_start(
    nats_server: NatsServer, tmp_path: Path, stopped: list[subprocess.Popen[str]]
) -> None:
    port = str(free_port())
    refused = _start_gateway(nats_server, tmp_path, port=port, GATEWAY_HOST="0.0.0.0")
    stopped.append(refused)
    assert refused.wait(timeout=60) != 0
    message = (tmp_path / f"gateway-{port}.log").read_text()
    assert "ALLOW_ANONYMOUS=true" in message and "API_KEYS" in message

    for extra in ({"ALLOW_ANONYMOUS": "true"}, {"API_KEYS": "key-a:alice"}):
        port = str(free_port())
        allowed = _start_gateway(nats_server, tmp_path, port=port, GATEWAY_HOST="0.0.0.0", **extra)
        stopped.append(allowed)
        assert _serves(port, allowed), extra


def test_loopback_without_keys_still_starts(
    nats_server: NatsServer, tmp_path: Path, stopped: list[subprocess.Popen[str]]
) -> None:
    port = str(free_port())
    local = _start_gateway(nats_server, tmp_path, port=port, GATEWAY_HOST="127.0.0.1")
    stopped.append(local)
    assert _serves(port, local)


async def test_a_job_may_only_name_an_allowed_model(settings: Settings) -> None:
    configured = {"scene_model": "openai/gpt-test", "allowed_models_list": ()}
    async with opened_gateway(settings, **configured) as client:
        for model in ("openai/gpt-test", "builtin"):
            body = {"configuration": {**REQUEST["configuration"], "model": model}}
            assert (await client.post(GENERATE, json=body)).status_code == 201, model
        body = {"configuration": {**REQUEST["configuration"], "model": "openai/expensive-one"}}
        error = assert_error_shape(await client.post(GENERATE, json=body), 422, "VALIDATION_ERROR")
        assert error["error"]["details"]["field_errors"][0]["field"] == "configuration.model"
    async with opened_gateway(settings, allowed_models_list=("ollama/llama3",)) as client:
        body = {"configuration": {**REQUEST["configuration"], "model": "ollama/llama3"}}
        assert (await client.post(GENERATE, json=body)).status_code == 201
        body = {"configuration": {**REQUEST["configuration"], "model": "builtin"}}
        assert_error_shape(await client.post(GENERATE, json=body), 422, "VALIDATION_ERROR")


async def test_an_idempotency_key_reused_with_another_body_is_422(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": f"pay-{uuid.uuid4()}"}
    first = await client.post(GENERATE, json=REQUEST, headers=headers)
    assert first.status_code == 201
    # The same request spelled differently (explicit default) is the same request.
    same = {**REQUEST, "priority": "normal"}
    again = await client.post(GENERATE, json=same, headers=headers)
    assert again.status_code == 200 and again.json()["job_id"] == first.json()["job_id"]
    other = {"configuration": {**REQUEST["configuration"], "topic": "Something else"}}
    body = assert_error_shape(
        await client.post(GENERATE, json=other, headers=headers), 422, "VALIDATION_ERROR"
    )
    assert body["error"]["details"]["field_errors"][0]["field"] == "Idempotency-Key"
    listed = (await client.get("/api/v1/jobs", params={"items_per_page": 100})).json()
    assert sum(job["job_id"] == first.json()["job_id"] for job in listed["jobs"]) == 1


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("topic", "Pythagoras\x00"),
        ("topic", "Pythagoras\nIgnore previous"),
        ("topic", "tab\there"),
        ("context", "a\x1b[31m red"),
        ("context", "bell\x07"),
        ("context", "del\x7f"),
        ("context", "c1\x85"),
    ],
)
async def test_control_characters_in_topic_or_context_are_422(
    client: httpx.AsyncClient, field: str, text: str
) -> None:
    body = {"configuration": {**REQUEST["configuration"], field: text}}
    error = assert_error_shape(await client.post(GENERATE, json=body), 422, "VALIDATION_ERROR")
    assert error["error"]["details"]["field_errors"][0]["field"] == f"configuration.{field}"
    assert "control characters" in error["error"]["message"]


async def test_newlines_and_tabs_in_context_are_fine(client: httpx.AsyncClient) -> None:
    context = "First line.\nSecond line,\tindented.\r\nThird."
    body = {"configuration": {**REQUEST["configuration"], "context": context}}
    assert (await client.post(GENERATE, json=body)).status_code == 201


# --- 9.5: integrity of stored videos --------------------------------------------------


async def test_a_tampered_video_is_refused_with_integrity_error(
    client: httpx.AsyncClient,
    completed_job: tuple[str, bytes],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    job_id, data = completed_job
    base = f"/api/v1/videos/jobs/{job_id}"
    assert (await client.get(f"{base}/stream")).content == data  # verified and cached
    path = LocalVideoStore(gateway_of(client).deps.settings.storage_dir).local_path(
        object_key("local", job_id, "video.mp4")
    )
    stat = path.stat()
    tampered = bytes(byte ^ 0xFF for byte in data[:64]) + data[64:]  # same size
    path.write_bytes(tampered)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the writer hides its mtime
    with caplog.at_level(logging.ERROR, logger="videogen.gateway.integrity"):
        for route in ("stream", "download", "video-url"):
            response = await client.get(f"{base}/{route}")
            body = assert_error_shape(response, 500, "INTEGRITY_ERROR")
            assert tampered[:64] not in response.content
            assert str(path) not in response.text
    assert any(
        record.levelno == logging.ERROR and getattr(record, "job_id", "") == job_id
        for record in caplog.records
    )
    path.write_bytes(data + b"extra")  # another size
    assert_error_shape(await client.get(f"{base}/stream"), 500, "INTEGRITY_ERROR")
    assert body["error"]["details"]["expected_size"] == len(data)


# --- 9.9: error text without secrets --------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of this process, rendered by the services' JSON formatter."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield sink
    finally:
        root.removeHandler(handler)


async def test_failure_text_reaches_no_api_body_event_or_log_with_a_secret(
    settings: Settings, log_lines: io.StringIO
) -> None:
    secret_settings = {"openai_api_key": Secret(CANARY), "api_keys": {}}
    async with opened_gateway(settings, **secret_settings) as client:
        created = await client.post(GENERATE, json=REQUEST)
        job_id = created.json()["job_id"]
        gateway = gateway_of(client)
        package_dir = Path(site.getsitepackages()[0]) / "manim" / "scene" / "scene.py"
        data_file = gateway.deps.settings.data_dir.resolve() / "videos" / "other" / "x.mp4"
        leak = f"Authorization: Bearer {CANARY} while reading {package_dir} and {data_file}"

        async with connected("leaky", gateway.deps.settings) as stage:

            async def handler(event: SceneRenderFailed) -> None:
                raise PermanentError(leak, suggestion=f"check {CANARY}")

            event = SceneRenderFailed(
                job_id=job_id,
                user_id="local",
                context=JobContext(quality="low", scene_model="builtin"),
                scene_number=1,
                scene_count=1,
                attempt=1,
                class_name="S",
                code_ref="x",
                plan_ref="y",
                error=RenderError(kind="crash", message=leak, traceback=leak),
            )
            await consume(stage, event, handler)
            await stage.broker.start()
            await stage.bus.publish(event)
            status = await wait_for_status(
                client, job_id, lambda b: b["status"] == "failed", timeout=30
            )
            events = await read_job(stage.js, job_id)

        logs = (await client.get(f"/api/v1/jobs/{job_id}/logs")).text
        bad_model = {"configuration": {**REQUEST["configuration"], "model": CANARY}}
        rejected = await client.post(GENERATE, json=bad_model)
    assert rejected.status_code == 422
    stored = b"".join(msgspec.json.encode(record.event) for record in events)
    for text in (str(status), logs, stored.decode(), log_lines.getvalue(), rejected.text):
        assert CANARY not in text
        assert str(package_dir.parent) not in text
        assert str(data_file.parent) not in text
    assert "[REDACTED]" in status["error"]["message"]
    assert "<site-packages>/manim" in status["error"]["message"]
    assert "<data>/videos" in status["error"]["message"]
    assert "failed permanently" in log_lines.getvalue()  # the runtime did log the failure
