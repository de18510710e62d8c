"""What the planner asks an LLM for and what the coder hands on, through the real `openai`
SDK against the scripted server, with the planner, narrator and coder stages on a real
nats-server.

A job asks for 3 minutes: the outline prompt asks for the budget's scene count and an
outline with too few scenes is sent back; a scene plan missing its beats is sent back
naming them; the narrator speaks the plan's beats one for one (a beat of two sentences
stays one beat); the code prompt carries the storyboard's layout and safe area, the
technical plan's objects and each beat's animations with the time it is spoken.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from services.coder.handlers import register as register_coder
from services.narrator.handlers import register as register_narrator
from services.planner.budget import scene_budget
from services.planner.handlers import register as register_planner
from shared.events import (
    AnyEvent,
    JobConfig,
    JobContext,
    JobFailed,
    JobRequested,
    SceneCoded,
    SceneNarrated,
)
from shared.jobview import JobView
from shared.settings import Settings, load_settings
from tests.integration.test_llm_pipeline import MODEL, Job, _llm_settings, running, scene_code
from tests.llm_server import ScriptedLLM
from videogen.natsd import NatsServer

MINUTES = 3.0
BEATS = [
    {
        "narration": "A circle appears in the middle. It is perfectly round.",
        "visual": "the circle is drawn in the centre",
        "animations": ["Create(circle)"],
    },
    {
        "narration": "Its radius r runs from the centre to the edge.",
        "visual": "a radius and its label r appear",
        "animations": ["Create(radius)", "Write(label)"],
    },
]
PLAN = json.dumps(
    {
        "storyboard": "A circle with its radius labelled r.",
        "objects": [
            {
                "name": "circle",
                "manim": "Circle",
                "content": "radius 2",
                "region": "center",
                "placement": "move_to(ORIGIN)",
            },
            {
                "name": "radius",
                "manim": "Line",
                "content": "centre to edge",
                "region": "center",
                "placement": "from circle.get_center() to circle.point_at_angle(0)",
            },
            {
                "name": "label",
                "manim": "MathTex",
                "content": "r",
                "region": "right",
                "placement": "next_to(radius, UP, buff=0.3)",
            },
        ],
        "technical_plan": "Circle radius 2 in BLUE; Line in YELLOW; MathTex 48 pt.",
        "beats": BEATS,
    }
)
WITHOUT_BEATS = json.dumps(
    {"storyboard": "A circle.", "technical_plan": "Circle.", "narration": "A circle appears."}
)


def flat(text: str) -> str:
    """A prompt with its line breaks as spaces: prompt files wrap their lines."""
    return " ".join(text.split())


def outline(count: int) -> str:
    return json.dumps(
        {"scenes": [{"title": f"Part {n}", "purpose": f"Show part {n}."} for n in range(count)]}
    )


@pytest.fixture(scope="module")
def nats_server(private_nats_server: NatsServer) -> NatsServer:
    return private_nats_server


@pytest.fixture(scope="module")
async def planned(
    nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ScriptedLLM, list[AnyEvent]]]:
    budget = scene_budget(MINUTES)
    llm = ScriptedLLM().start()
    llm.on("Task: outline", replies=[outline(3), outline(budget.scenes)])
    llm.on("Task: scene plan", replies=[WITHOUT_BEATS, PLAN])
    some_code = scene_code("Scene01", "        self.wait(0.5)")
    llm.on("Task: scene code", replies=[some_code])
    llm.on("Task: repair code", replies=[some_code])
    base: Settings = load_settings(
        {},
        nats_url=nats_server.url,
        data_dir=tmp_path_factory.mktemp("plan-prompts"),
        ack_wait_seconds=10.0,
    )
    settings = replace(_llm_settings(base, llm), tts_model="espeak-ng", max_scene_concurrency=4)
    job_id = str(uuid.uuid4())
    config = JobConfig(
        topic="Circles", context="Circles are round.", model=MODEL, target_minutes=MINUTES
    )
    event = JobRequested(
        job_id=job_id,
        user_id="tester",
        config=config,
        context=JobContext(quality="low", scene_model=MODEL, narrate=True),
    )
    try:
        async with running(settings, register_planner, register_narrator, register_coder) as deps:
            await deps.jobs.create(JobView(job_id=job_id, user_id="tester", config=config))
            await deps.bus.publish(event)
            events = await Job(deps, event).events_until(
                lambda es: (
                    any(isinstance(e, JobFailed) for e in es)
                    or sum(isinstance(e, SceneCoded) for e in es) >= budget.scenes
                ),
                timeout=240,
            )
    finally:
        llm.stop()
    yield llm, events


def test_the_outline_prompt_asks_for_the_budget_and_holds_the_model_to_it(planned):
    llm, events = planned
    budget = scene_budget(MINUTES)
    first, second = (flat(r.text) for r in llm.requests("Task: outline"))
    assert "about 3 minutes long" in first and f"as {budget.scenes} scenes" in first
    assert f"the outline has 3 scenes; it must have {budget.min_scenes} to" in second
    assert not any(isinstance(e, JobFailed) for e in events)


def test_the_plan_prompt_asks_for_storyboard_technical_plan_and_beats(planned):
    llm, _ = planned
    budget = scene_budget(MINUTES)
    prompt = flat(llm.requests("Task: scene plan")[0].text)
    for part in ("1. Visual storyboard", "2. Technical plan", "3. Narration, beat by beat"):
        assert part in prompt
    assert "at least 0.5 units inside each edge" in prompt and "0.3 units from any" in prompt
    assert "top_left" in prompt and "bottom_right" in prompt  # the regions it may name
    assert f"{budget.beats_per_scene} beats of about {budget.words_per_beat} words" in prompt
    assert '"animations": ["Write(title)"]' in prompt


def test_a_plan_missing_its_beats_is_sent_back_naming_them(planned):
    llm, _ = planned
    reasked = [r for r in llm.requests("Task: scene plan") if "That answer is invalid" in r.text]
    assert reasked and all("missing required field" in r.text for r in reasked)
    assert any("`objects`" in r.text or "`beats`" in r.text for r in reasked)


def test_the_narrator_speaks_the_plan_beats_one_for_one(planned):
    _, events = planned
    narrated = [e for e in events if isinstance(e, SceneNarrated)]
    assert len(narrated) == scene_budget(MINUTES).scenes
    for event in narrated:
        assert [b.text for b in event.narration.beats] == [b["narration"] for b in BEATS]


def test_the_code_prompt_carries_layout_objects_and_timed_beats(planned):
    llm, events = planned
    prompts = llm.requests("Task: scene code")
    assert len(prompts) >= scene_budget(MINUTES).scenes
    narrated = {e.scene_number: e for e in events if isinstance(e, SceneNarrated)}
    text = flat(llm.requests("Task: scene code", "scene number 1 of")[0].text)
    assert "Visual storyboard: A circle with its radius labelled r." in text
    assert "at least 0.5 units inside each edge and 0.3 units from the others" in text
    assert "- label: right, next_to(radius, UP, buff=0.3)" in text
    assert "- radius = Line: centre to edge" in text and "MathTex 48 pt" in text
    _, second = narrated[1].narration.beats
    assert (
        f"Beat 1 at {second.start_seconds:.1f} s for {second.duration_seconds:.1f} s: "
        f"“{BEATS[1]['narration']}”"
    ) in text
    assert "animations: Create(radius); Write(label)" in text
    assert f"Speech ends at {narrated[1].narration.speech_seconds:.1f} s." in text
    assert "self.wait_until_beat(i)" in text
