"""The bus goes away: every route answers 503 with Retry-After, never 500, and nothing
half-happens (real nats-server, frozen with SIGSTOP or killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.gateway.errors import RETRY_AFTER_SECONDS
from shared.events import StoredVideo, VideoStored
from shared.settings import Settings
from shared.videostore import LocalVideoStore, object_key
from tests.integration.test_gateway_api import (
    REQUEST,
    assert_error_shape,
    gateway_of,
    opened_gateway,
    wait_for_status,
)
from tests.integration.test_gateway_media import write_mp4
from videogen.natsd import NatsServer, start_nats_server

FREEZE_SECONDS = 20.0
RENDER_CODE = "from manim import *\n\nclass Dot1(Scene):\n    def construct(self):\n        pass\n"


def every_route(job_id: str, done_id: str) -> list[tuple[str, str, Mapping[str, object] | None]]:
    """(method, path, json) of every route a client uses, on a queued and a completed job."""
    videos, jobs = "/api/v1/videos/jobs", "/api/v1/jobs"
    return [
        ("POST", "/api/v1/videos/generate", REQUEST),
        ("POST", "/api/v1/videos/render", {"code": RENDER_CODE, "quality": "low"}),
        ("GET", f"{videos}/{job_id}/status", None),
        *[
            ("GET", f"{videos}/{done_id}/{route}", None)
            for route in (
                "video-url",
                "stream",
                "download",
                "thumbnail",
                "metadata",
                "scenes",
                "subtitles",
                "status",
            )
        ],
        ("GET", f"{videos}/{done_id}/scenes/1/code", None),
        ("GET", jobs, None),
        ("GET", f"{jobs}/{job_id}", None),
        ("GET", f"{jobs}/{job_id}/logs", None),
        ("POST", f"{jobs}/{job_id}/cancel", None),
        ("DELETE", f"{jobs}/{done_id}", None),
        ("GET", "/api/v1/system/queue", None),
        ("GET", "/ready", None),
    ]


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of this test alone: it is frozen and killed."""
    server = start_nats_server(tmp_path / "nats")
    try:
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


@pytest.fixture
async def client(own_nats: NatsServer, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened_gateway(dataclasses.replace(settings, nats_url=own_nats.url)) as client:
        yield client


async def _jobs(client: httpx.AsyncClient) -> tuple[str, str, Path]:
    """A queued job and a completed one (its video on disk); the completed one's folder."""
    queued = (await client.post("/api/v1/videos/generate", json=REQUEST)).json()["job_id"]
    done = (await client.post("/api/v1/videos/generate", json=REQUEST)).json()["job_id"]
    gateway = gateway_of(client)
    store = LocalVideoStore(gateway.deps.settings.storage_dir)
    video_key = object_key("local", done, "video.mp4")
    write_mp4(store.local_path(video_key))
    data = store.local_path(video_key).read_bytes()
    await gateway.deps.bus.publish(
        VideoStored(
            job_id=done,
            user_id="local",
            model="builtin",
            video=StoredVideo(
                storage_mode="local_only",
                video_key=video_key,
                duration_seconds=1.0,
                width=64,
                height=48,
                fps=10.0,
                frame_count=10,
                file_size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        )
    )
    await wait_for_status(client, done, lambda body: body["status"] == "completed")
    return queued, done, store.local_path(video_key).parent


async def _hit_every_route(client: httpx.AsyncClient, queued: str, done: str) -> None:
    async def call(method: str, path: str, body: Mapping[str, object] | None) -> httpx.Response:
        return await client.request(method, path, json=body, timeout=60)

    routes = every_route(queued, done)
    responses = await asyncio.gather(*(call(*route) for route in routes))
    for (method, path, _), response in zip(routes, responses, strict=True):
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert_error_shape(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS), (method, path)


async def _still_whole(client: httpx.AsyncClient, queued: str, done: str, folder: Path) -> None:
    """Nothing the failed requests attempted happened: no delete, no cancel."""
    assert (folder / "video.mp4").is_file()
    assert (await client.get(f"/api/v1/videos/jobs/{done}/stream")).status_code == 200
    status = (await client.get(f"/api/v1/jobs/{queued}")).json()
    assert status["status"] == "queued", status


async def _recovered(client: httpx.AsyncClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (await client.get("/ready")).status_code != 200:
        assert time.monotonic() < deadline, "the gateway did not recover"
        await asyncio.sleep(0.5)


async def test_frozen_bus_answers_503_everywhere_and_changes_nothing(
    client: httpx.AsyncClient, own_nats: NatsServer
) -> None:
    queued, done, folder = await _jobs(client)
    frozen_at = time.monotonic()
    os.kill(own_nats.process.pid, signal.SIGSTOP)
    try:
        await _hit_every_route(client, queued, done)
        assert time.monotonic() - frozen_at < FREEZE_SECONDS, "503s must not take a freeze"
        await asyncio.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
    finally:
        os.kill(own_nats.process.pid, signal.SIGCONT)
    await _recovered(client)
    await _still_whole(client, queued, done, folder)
    assert (await client.post("/api/v1/videos/generate", json=REQUEST)).status_code == 201
    deleted = await client.delete(f"/api/v1/jobs/{done}")
    assert deleted.status_code == 200 and not folder.exists()


async def test_killed_bus_answers_503_at_once_and_recovers_on_restart(
    client: httpx.AsyncClient, own_nats: NatsServer, tmp_path: Path
) -> None:
    queued, done, folder = await _jobs(client)
    port = urlsplit(own_nats.url).port
    own_nats.process.kill()
    own_nats.process.wait()
    await asyncio.sleep(0.5)  # the client notices the closed socket
    started = time.monotonic()
    await _hit_every_route(client, queued, done)
    assert time.monotonic() - started < 15
    restarted = start_nats_server(tmp_path / "nats", port=port or -1)
    own_nats.process = restarted.process  # the fixture stops this one
    await _recovered(client)
    await _still_whole(client, queued, done, folder)
    cancelled = await client.post(f"/api/v1/jobs/{queued}/cancel")
    assert cancelled.status_code == 200, cancelled.text
