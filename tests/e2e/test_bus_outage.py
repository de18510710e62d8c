"""NATS frozen (SIGSTOP) for 20 s under a running stack: every route answers 503 with
Retry-After, none 500, a cancel and a delete sent meanwhile change nothing, and the jobs
in flight complete once NATS is back (SIGCONT)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.gateway.errors import RETRY_AFTER_SECONDS
from tests.e2e.helpers import submit, wait_for
from tests.integration.test_gateway_outage import FREEZE_SECONDS, every_route
from tests.render_samples import LEGIT, scene_file
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("outage"),
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="10",
    ) as running:
        yield running


async def _every_route_is_503(base_url: str, generated: str, rendered: str) -> list[str]:
    """Each route once, all at once; the problems found (empty: all 503 + Retry-After)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        routes = every_route(generated, rendered)
        responses = await asyncio.gather(
            *(client.request(method, path, json=body) for method, path, body in routes)
        )
    return [
        f"{method} {path}: {response.status_code} {response.text[:200]}"
        for (method, path, _), response in zip(routes, responses, strict=True)
        if response.status_code != 503
        or response.headers.get("retry-after") != str(RETRY_AFTER_SECONDS)
        or response.json()["error"]["code"] != "SERVICE_UNAVAILABLE"
    ]


def test_frozen_bus_answers_503_and_jobs_in_flight_complete(stack: Stack) -> None:
    assert stack.nats is not None
    with httpx.Client(base_url=stack.base_url, timeout=60) as api:
        generated = submit(api, "Permutation", {}, target_minutes=0.5)  # a short job: 3 scenes
        response = api.post(
            "/api/v1/videos/render", json={"code": scene_file(LEGIT["Shapes"]), "quality": "low"}
        )
        assert response.status_code == 201, response.text
        rendered = response.json()["job_id"]
        wait_for(api, generated, until=lambda s: s["status"] == "processing", timeout=120)

        frozen_at = time.monotonic()
        os.kill(stack.nats.process.pid, signal.SIGSTOP)
        try:
            problems = asyncio.run(_every_route_is_503(stack.base_url, generated, rendered))
            answered_in = time.monotonic() - frozen_at
            time.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
        finally:
            os.kill(stack.nats.process.pid, signal.SIGCONT)
        assert not problems, problems
        assert answered_in < FREEZE_SECONDS

        for job_id in (generated, rendered):
            status, _ = wait_for(api, job_id, timeout=600)
            assert status["status"] == "completed", status
        assert api.get(f"/api/v1/videos/jobs/{rendered}/download").status_code == 200
    gateway_log = (Path(stack.data_dir) / "logs" / "gateway.log").read_text()
    assert "unhandled error" not in gateway_log
