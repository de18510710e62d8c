"""Backpressure: over MAX_QUEUED_JOBS a new job gets 429 with Retry-After; nothing accepted
is dropped, and the queue route shows the work per stage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import submit, wait_for
from videogen.stack import isolated_stack
from videogen.topics import find_topic

pytestmark = pytest.mark.e2e


def test_third_job_is_turned_away_and_the_first_two_complete(tmp_path: Path):
    with (
        isolated_stack(tmp_path / "stack", MAX_QUEUED_JOBS="2", DEFAULT_QUALITY="low") as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        first = submit(api, "Cramer's Rule", {})
        second = submit(api, "Permutation", {})
        topic = find_topic("Kirchhoff's voltage law")
        body = {"configuration": {"topic": topic.topic, "context": topic.context}}
        refused = api.post("/api/v1/videos/generate", json=body)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(refused.headers["Retry-After"]) >= 1

        queue = api.get("/api/v1/system/queue").json()
        assert set(queue["stages"]) >= {"planner", "coder", "renderer", "storage"}
        assert sum(queue["jobs"].values()) == 2
        assert queue["estimated_completion"]["low"].endswith("Z")

        for job_id in (first, second):
            status, _ = wait_for(api, job_id)
            assert status["status"] == "completed", status.get("error")
        accepted = api.post("/api/v1/videos/generate", json=body)
        assert accepted.status_code == 201
        api.post(f"/api/v1/jobs/{accepted.json()['job_id']}/cancel")
