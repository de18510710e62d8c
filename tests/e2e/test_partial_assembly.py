"""PARTIAL_ASSEMBLY=true: a scene that fails for good is left out; the rest is combined."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.events import VideoCombined
from shared.history import read_job
from tests.render_samples import LEGIT, scene_file
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

BROKEN = "\nclass Broken(Scene):\n    def construct(self):\n        self.play(Create(Circl()))\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("partial"),
        services=("gateway", "renderer", "storage"),
        DEFAULT_QUALITY="low",
        PARTIAL_ASSEMBLY="true",
        ACK_WAIT_SECONDS="5",
    ) as running:
        yield running


def _wait(api: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = api.get(f"/api/v1/videos/jobs/{job_id}/status").json()
        if status["status"] in ("completed", "failed", "cancelled"):
            return status
        time.sleep(0.3)
    raise AssertionError(status)


def test_failed_scene_is_left_out(stack: Stack, tmp_path: Path) -> None:
    code = scene_file(LEGIT["Shapes"], BROKEN, LEGIT["Transforming"])
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        job_id = api.post("/api/v1/videos/render", json={"code": code}).json()["job_id"]
        status = _wait(api, job_id)
    assert status["status"] == "completed", status["error"]

    async def combined() -> VideoCombined:
        connection = await stack.connect()
        try:
            records = await read_job(connection.jetstream(), job_id)
        finally:
            await connection.close()
        return next(r.event for r in records if isinstance(r.event, VideoCombined))

    event = asyncio.run(combined())
    assert event.omitted_scenes == [2]
    assert len(event.scene_offsets) == 2
    assert event.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_nothing_rendered_fails_the_job(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        job_id = api.post("/api/v1/videos/render", json={"code": scene_file(BROKEN)}).json()
        status = _wait(api, job_id["job_id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "RENDER_FAILED"
