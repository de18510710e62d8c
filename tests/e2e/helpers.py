"""What the end-to-end tests do again and again: submit a built-in topic, poll a job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.llm_server import ScriptedLLM
from videogen.topics import find_topic

Status = dict[str, Any]
LLM_MODEL = "openai/scripted"


def llm_settings(llm: ScriptedLLM) -> dict[str, Any]:
    """A stack's settings for planning and coding on the scripted server, fast and small."""
    return {
        "PLANNER_MODEL": LLM_MODEL,
        "SCENE_MODEL": LLM_MODEL,
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-secret",
        "LLM_RETRY_BASE_SECONDS": "0.05",
        "FIX_BACKOFF_SECONDS": "0.01",
        "MAX_FIX_ATTEMPTS": "1",
        "DEFAULT_QUALITY": "low",
    }


def submit(
    api: httpx.Client, topic_name: str, headers: dict[str, str], **configuration: Any
) -> str:
    """POST a built-in topic at low quality (plus any other `configuration`); the job's id."""
    topic = find_topic(topic_name)
    body = {
        "configuration": {
            "topic": topic.topic,
            "context": topic.context,
            "quality": "low",
            **configuration,
        }
    }
    response = api.post("/api/v1/videos/generate", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def terminal(status: Status) -> bool:
    return status["status"] in ("completed", "failed", "cancelled")


def wait_for(
    api: httpx.Client,
    job_id: str,
    headers: dict[str, str] | None = None,
    until: Callable[[Status], bool] = terminal,
    timeout: float = 240,
) -> tuple[Status, list[tuple[str, float]]]:
    """Poll /status until `until(status)`; also return every (stage, %) seen on the way."""
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    status: Status = {}
    while time.monotonic() < deadline:
        status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=headers).json()
        progress = status["progress"]
        if not seen or seen[-1] != (progress["current_stage"], progress["percentage"]):
            seen.append((progress["current_stage"], progress["percentage"]))
        if until(status):
            return status, seen
        time.sleep(0.2)
    raise AssertionError(f"timed out; last status {status}")
