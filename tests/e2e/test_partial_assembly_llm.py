"""PARTIAL_ASSEMBLY=true on an LLM job: the coder gives up on a scene and says so.

Scene 2's LLM code never passes the checks, so the coder falls back to the built-in
model's version at once (attempt 1), and that version fails to render too (its plan's
text is one Pango cannot draw). The coder announces `scene.abandoned`; the renderer
combines the other scenes and the job completes without scene 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from shared.events import SceneAbandoned, SceneCoded, VideoCombined
from shared.history import read_job
from tests.e2e.helpers import llm_settings, wait_for
from tests.integration.test_llm_pipeline import OUTLINE, PLAN, WORKS, scene_code
from tests.llm_server import ScriptedLLM
from tests.plan_answers import plan_json
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

# A NUL in the narration: the built-in model shows narration as Text, and Pango refuses it.
UNDRAWABLE_PLAN = plan_json(
    "This sentence cannot be drawn \u0000 by Pango at all.",
    storyboard="Words appear.",
    technical_plan="Text, FadeIn 0.5 s.",
)
# A name no Manim has (and no API rewrite knows): the checks refuse every attempt.
NEVER_CHECKS = scene_code("Scene02Middle", "        self.play(NoSuchAnimation(Circle()))")


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    server.on("Task: scene plan", 'scene number 2 ("', replies=[UNDRAWABLE_PLAN])
    server.on("Task: scene code", replies=[WORKS.replace("Scene03End", "Scene01Intro")])
    server.on("Task: scene code", "scene number 2 of", replies=[NEVER_CHECKS])
    server.on("Task: repair code", "scene number 2 (", replies=[NEVER_CHECKS])
    server.on("Task: scene code", "scene number 3 of", replies=[WORKS])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("partial-llm"),
        **llm_settings(llm),
        PARTIAL_ASSEMBLY="true",
    ) as running:
        yield running


def test_abandoned_fallback_scene_is_left_out(stack: Stack, llm: ScriptedLLM) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        body = {"configuration": {"topic": "Circles", "context": "Circles are round."}}
        job_id = api.post("/api/v1/videos/generate", json=body).json()["job_id"]
        status, _ = wait_for(api, job_id, timeout=240)
    assert status["status"] == "completed", status.get("error")
    scenes = {s["scene_number"]: s for s in status["scenes"]}
    assert scenes[2]["status"] == "abandoned" and scenes[2]["model"] == "builtin"

    async def events() -> list[object]:
        connection = await stack.connect()
        try:
            return [r.event for r in await read_job(connection.jetstream(), job_id)]
        finally:
            await connection.close()

    recorded = asyncio.run(events())
    [fallback] = [e for e in recorded if isinstance(e, SceneCoded) and e.scene_number == 2]
    assert (fallback.attempt, fallback.model) == (1, "builtin")  # the early fallback
    [abandoned] = [e for e in recorded if isinstance(e, SceneAbandoned)]
    assert abandoned.scene_number == 2 and "built-in model's version failed" in abandoned.reason
    [combined] = [e for e in recorded if isinstance(e, VideoCombined)]
    assert combined.omitted_scenes == [2]
    assert len(combined.scene_offsets) == 2
