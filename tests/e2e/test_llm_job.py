"""A job on an LLM (the scripted OpenAI-compatible server) through the whole stack and the
REST API: a NameError is repaired, a hopeless scene falls back, /scenes shows the loop."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import llm_settings, wait_for
from tests.integration.test_llm_pipeline import (
    ALWAYS_FAILS,
    FIXED,
    MODEL,
    NAME_ERROR,
    OUTLINE,
    PLAN,
    WORKS,
)
from tests.llm_server import ScriptedLLM
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    server.on("Task: scene code", "scene number 1 of", replies=[NAME_ERROR])
    server.on("Task: repair code", "scene number 1 (", replies=[FIXED])
    server.on("Task: scene code", "scene number 2 of", replies=[ALWAYS_FAILS])
    server.on("Task: repair code", "scene number 2 (", replies=[ALWAYS_FAILS])
    server.on("Task: scene code", "scene number 3 of", replies=[WORKS])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(tmp_path_factory.mktemp("llm-stack"), **llm_settings(llm)) as running:
        yield running


def test_llm_job_repairs_falls_back_and_explains_itself(stack: Stack, llm: ScriptedLLM):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        body = {"configuration": {"topic": "Circles", "context": "Circles are round."}}
        job_id = api.post("/api/v1/videos/generate", json=body).json()["job_id"]
        status, _ = wait_for(api, job_id, timeout=180)
        assert status["status"] == "completed", status.get("error")

        scenes = {s["scene_number"]: s for s in status["scenes"]}
        assert (scenes[1]["attempts"], scenes[1]["model"]) == (2, MODEL)
        assert scenes[2]["model"] == "builtin" and scenes[2]["fallback_reason"]
        assert [f["scene"] for f in status["fallbacks"]] == [2]
        assert status["usage"]["calls"] >= 7  # outline, 3 plans, 3 codes, repairs
        assert status["usage"]["by_stage"]["planning"][0]["model"] == MODEL

        [fix] = llm.requests("Task: repair code", "scene number 1 (")
        assert "NameError" in fix.text and "Traceback" in fix.text
        # the job is narrated (the default): the code prompt times the scene to the voice
        [draft] = llm.requests("Task: scene code", "scene number 3 of")
        assert "Beat 0 at 0.0 s for" in draft.text and "self.wait_until_beat(i)" in draft.text
        assert status["voice"] == "piper:en_US-joe-medium"

        detail = api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()
        first = detail["scenes"][0]
        assert [(a["attempt"], a["status"]) for a in first["attempts"]] == [
            (1, "failed"),
            (2, "rendered"),
        ]
        assert "NameError" in first["attempts"][0]["error"]
        assert first["plan"]["narration"]
        code = api.get(f"/api/v1/videos/jobs/{job_id}/scenes/1/code").json()
        assert [a["attempt"] for a in code["attempts"]] == [1, 2]
        assert "circle = Circle()" in code["attempts"][1]["code"]
        assert api.get(f"/api/v1/videos/jobs/{job_id}/scenes/9/code").status_code == 404

        logs = api.get(f"/api/v1/jobs/{job_id}/logs", params={"level": "warning"}).json()
        assert any("falls back to the built-in model" in line["message"] for line in logs["logs"])
        metadata = api.get(f"/api/v1/videos/jobs/{job_id}/metadata").json()
        assert metadata["usage"]["calls"] == status["usage"]["calls"]
