"""The planner's and the coder's LLM models against the scripted server: what reaches the
prompts (style preferences, the one import allow-list) and what the client counts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from services.coder.models import resolve_coder
from services.planner.models import resolve_planner
from services.planner.scenario import write_scenes
from shared.code_policy import SCENE_IMPORTS
from shared.llm.providers import LLMClients
from shared.plans import style_text
from shared.settings import load_settings
from tests.llm_server import ScriptedLLM
from tests.plan_answers import plan_json

MODEL = "openai/style-test"
OUTLINE = json.dumps({"scenes": [{"title": t, "purpose": "p"} for t in ("A", "B", "C")]})
PLAN = plan_json("One full sentence.")
STYLE = {"palette": "dark blue and gold", "pace": "slow"}


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    server.on("Task: outline", replies=[OUTLINE])
    server.on("Task: scene plan", replies=[PLAN])
    server.on("Task: scene code", replies=["```python\nfrom manim import *\n```"])
    yield server
    server.stop()


def _calls(purpose: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "videogen_llm_calls_total", {"model": MODEL, "purpose": purpose, "outcome": "ok"}
        )
        or 0.0
    )


async def test_style_preferences_reach_planner_and_coder_prompts(llm: ScriptedLLM):
    clients = LLMClients(load_settings({}, openai_base_url=llm.base_url))
    style = style_text(STYLE)
    planner = resolve_planner(MODEL, clients=clients)
    outline = await planner.outline(topic="Circles", context="Round.", style=style)
    plans = await write_scenes(
        planner, topic="Circles", context="Round.", outline=outline, concurrency=2, style=style
    )
    await resolve_coder(MODEL, clients=clients).write_code(plans[0])
    await clients.aclose()
    assert style == "palette: dark blue and gold; pace: slow"
    assert all(plan.style == style for plan in plans)
    for task in ("Task: outline", "Task: scene plan", "Task: scene code"):
        assert all(style in request.text for request in llm.requests(task)), task
    [code] = llm.requests("Task: scene code")
    assert ", ".join(SCENE_IMPORTS) in code.text


async def test_llm_requests_are_counted_by_purpose(llm: ScriptedLLM):
    before = _calls("outline"), _calls("scene_plan")
    clients = LLMClients(load_settings({}, openai_base_url=llm.base_url))
    planner = resolve_planner(MODEL, clients=clients)
    outline = await planner.outline(topic="Circles", context="Round.")
    await planner.plan_scene(topic="Circles", context="Round.", outline=outline, number=1)
    await clients.aclose()
    assert (_calls("outline"), _calls("scene_plan")) == (before[0] + 1, before[1] + 1)
    assert "(none given)" in llm.requests("Task: outline")[0].text
