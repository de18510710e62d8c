"""Backpressure: over MAX_QUEUED_JOBS a new job gets 429 with Retry-After; nothing accepted
is dropped, and the queue route shows the work per stage."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.e2e.test_pipeline import _free_port, _submit, _terminal, _wait
from videogen.stack import start_stack
from videogen.topics import find_topic

pytestmark = pytest.mark.e2e


def test_third_job_is_turned_away_and_the_first_two_complete(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    environ.update(MAX_QUEUED_JOBS="2", DEFAULT_QUALITY="low")
    stack = start_stack(tmp_path / "stack", port=_free_port(), environ=environ)
    try:
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            first = _submit(api, "Cramer's Rule", {})
            second = _submit(api, "Permutation", {})
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
                status, _ = _wait(api, job_id, {}, _terminal)
                assert status["status"] == "completed", status.get("error")
            accepted = api.post("/api/v1/videos/generate", json=body)
            assert accepted.status_code == 201
            api.post(f"/api/v1/jobs/{accepted.json()['job_id']}/cancel")
    finally:
        stack.stop()
