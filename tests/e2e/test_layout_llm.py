"""LAYOUT_CHECK=repair (the default) through the whole stack and the REST API: an LLM's
scene with a formula on its title gets exactly one repair request, which names the
objects and the line; /scenes shows the flagged attempt, its findings and the repair."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import llm_settings, wait_for
from tests.integration.test_layout_repair import OVERLAP, OVERLAP_FIXED
from tests.integration.test_llm_pipeline import OUTLINE, PLAN, WORKS
from tests.llm_server import ScriptedLLM
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    server.on("Task: scene code", "scene number 1 of", replies=[OVERLAP])
    server.on("Task: repair code", "scene number 1 (", replies=[OVERLAP_FIXED])
    server.on("Task: scene code", "scene number 2 of", replies=[WORKS.replace("03End", "02Middle")])
    server.on("Task: scene code", "scene number 3 of", replies=[WORKS])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(tmp_path_factory.mktemp("layout-llm"), **llm_settings(llm)) as running:
        yield running


def test_one_layout_repair_through_the_api(stack: Stack, llm: ScriptedLLM) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        body = {"configuration": {"topic": "Circles", "context": "Circles are round."}}
        job_id = api.post("/api/v1/videos/generate", json=body).json()["job_id"]
        status, _ = wait_for(api, job_id, timeout=240)
        assert status["status"] == "completed", status.get("error")
        detail = api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()
    [request] = llm.requests("Task: repair code")
    assert "scene number 1 (" in request.text
    assert "- overlap: title, formula (line 6: title = Text('Circles'" in request.text
    first = detail["scenes"][0]
    assert [(a["attempt"], a["status"]) for a in first["attempts"]] == [
        (1, "flagged"),
        (2, "rendered"),
    ]
    [finding] = first["attempts"][0]["findings"]
    assert (finding["kind"], finding["objects"], finding["line"]) == (
        "overlap",
        ["title", "formula"],
        6,
    )
    assert first["attempts"][1]["findings"] == []
