"""A revision on an LLM planner (the scripted OpenAI-compatible server), whole stack, REST
API: with `"scene": null` the planner's model decides which scenes the instruction touches
(announced as `revision.planned`), rewrites that scene's plan from its current one, the
coder writes it anew, and the other scenes come from the render cache."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import llm_settings, wait_for
from tests.integration.test_llm_pipeline import OUTLINE, PLAN, scene_code
from tests.llm_server import ScriptedLLM
from tests.plan_answers import plan_json
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

INSTRUCTION = "Make the middle part show a blue square"
REVISED_PLAN = plan_json(
    "Now a blue square appears in the middle.",
    storyboard="A blue square fades in.",
    technical_plan="Square(color=BLUE), FadeIn 0.5 s.",
)
CHOICE = json.dumps({"scenes": [2], "reason": "only the middle scene shows that part"})


def _works(cls: str, shape: str) -> str:
    """A scene that renders cleanly: it ends on an empty frame (no layout finding)."""
    shown = f"        shape = {shape}\n        self.play(FadeIn(shape), run_time=0.5)\n"
    return scene_code(cls, shown + "        self.play(FadeOut(shape), run_time=0.3)")


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    for number, name in ((1, "Scene01Intro"), (2, "Scene02Middle"), (3, "Scene03End")):
        server.on(
            "Task: scene code", f"scene number {number} of", replies=[_works(name, "Circle()")]
        )
    server.on("Task: revision scenes", replies=[CHOICE])
    server.on("Task: revise a scene plan", replies=[REVISED_PLAN])
    server.on(
        "Task: scene code",
        "A blue square fades in",
        replies=[_works("Scene02Middle", "Square(color=BLUE)")],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(tmp_path_factory.mktemp("llm-revise"), **llm_settings(llm)) as running:
        yield running


def test_the_llm_decides_the_scenes_and_rewrites_the_plan(stack: Stack, llm: ScriptedLLM):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        body = {"configuration": {"topic": "Circles", "context": "Circles are round."}}
        job_id = api.post("/api/v1/videos/generate", json=body).json()["job_id"]
        first, _ = wait_for(api, job_id, timeout=300)
        assert first["status"] == "completed", first.get("error")

        accepted = api.post(
            f"/api/v1/videos/jobs/{job_id}/revise",
            json={"scene": None, "instruction": INSTRUCTION},
        )
        assert accepted.status_code == 202, accepted.text
        done, _ = wait_for(
            api,
            job_id,
            until=lambda s: s["revisions"] and s["revisions"][-1]["status"] != "processing",
            timeout=300,
        )
        latest = done["revisions"][-1]
        assert (latest["revision"], latest["status"]) == (2, "completed"), latest
        assert latest["scenes_changed"] == [2]
        assert latest["reason"] == "only the middle scene shows that part"

        [choice] = llm.requests("Task: revision scenes")
        assert INSTRUCTION in choice.text and "2. Middle" in choice.text
        [rewrite] = llm.requests("Task: revise a scene plan")
        assert "Here a circle appears on the screen." in rewrite.text  # from its current plan
        assert INSTRUCTION in rewrite.text
        assert len(llm.requests("Task: scene code", "A blue square fades in")) == 1

        scenes = api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
        second = {
            s["scene_number"]: [
                (a["cached"], a["status"]) for a in s["attempts"] if a["revision"] == 2
            ]
            for s in scenes
        }
        assert second == {
            1: [(True, "rendered")],
            2: [(False, "rendered")],
            3: [(True, "rendered")],
        }
        middle = next(s for s in scenes if s["scene_number"] == 2)
        assert middle["plan"]["narration"] == "Now a blue square appears in the middle."
        assert [b["text"] for b in middle["beats"]] == ["Now a blue square appears in the middle."]
        planning = done["usage"]["by_stage"]["planning"]
        assert sum(entry["calls"] for entry in planning) >= 3  # outline, the choice, the plan
        for revision in (1, 2):
            got = api.get(f"/api/v1/videos/jobs/{job_id}/download?revision={revision}")
            assert got.status_code == 200 and got.content[4:8] == b"ftyp"
