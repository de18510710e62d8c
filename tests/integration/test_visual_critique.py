"""Visual critique through a local OpenAI-compatible vision server (tests/llm_server.py).

A real -ql clip is rendered once; its key frames must reach the server as image_url parts
that decode as JPEGs of the configured size, the model's JSON must become findings with
frame times, and the call's tokens and cost must land on the usage meter.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

import msgspec
import nats
import pytest
from nats.js import api as js_api
from PIL import Image
from typing_extensions import Unpack

from services.coder.critique import critique_scene, vision_chat
from services.coder.handlers import register as register_coder
from services.renderer.render import render_scene
from shared import artifacts, subjects
from shared.events import (
    AnyEvent,
    JobConfig,
    JobContext,
    SceneCoded,
    SceneCritiqued,
    SceneFinding,
    SceneRendered,
    UsageRecorded,
    decode,
)
from shared.jobview import JobView
from shared.llm.providers import LLMClients
from shared.llm.usage import UsageMeter, estimated_cost
from shared.plans import ScenePlan
from shared.scene_report import scene_reports
from shared.service import StageDeps, connected
from shared.settings import Settings, SettingsError, load_settings
from tests.llm_server import Reply, ScriptedLLM
from videogen.natsd import NatsServer

STORYBOARD = "The title 'Circles' at the top; a blue circle is drawn in the centre."
SCENE = """from manim import *


class Critiqued(Scene):
    def construct(self):
        self.add(Text("Circles", font_size=40).to_edge(UP))
        self.play(Create(Circle(color=BLUE, radius=2)), run_time=1)
"""
ANSWER = {
    "findings": [
        {
            "kind": "overlap",
            "objects": ["title", "circle"],
            "message": "the circle touches the title",
            "frame": 3,
        },
        {"kind": "Clutter", "objects": [], "message": "busy background"},
    ]
}


@pytest.fixture(scope="module")
async def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("critique")
    rendered = await render_scene(
        SCENE, class_name="Critiqued", quality="low", workdir=workdir, timeout_seconds=300
    )
    return rendered.path


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    yield server
    server.stop()


class _VisionOverrides(TypedDict, total=False):
    vision_frames: int
    vision_frame_width: int


class _SceneAttempt(TypedDict):
    job_id: str
    user_id: str
    context: JobContext
    scene_number: int
    scene_count: int
    attempt: int


def _settings(
    settings: Settings, llm: ScriptedLLM, **overrides: Unpack[_VisionOverrides]
) -> Settings:
    return replace(
        settings,
        vision_model="openai/gpt-4o-mini",
        openai_base_url=llm.base_url,
        llm_retry_base_seconds=0.05,
        **overrides,
    )


async def _critique(settings: Settings, clip: Path, meter: UsageMeter) -> list[SceneFinding]:
    clients = LLMClients(settings)
    try:
        chat = vision_chat(settings, clients, meter)
        assert chat is not None
        return await critique_scene(
            clip,
            STORYBOARD,
            chat=chat,
            frames=settings.vision_frames,
            max_width=settings.vision_frame_width,
        )
    finally:
        await clients.aclose()


async def test_frames_go_as_jpegs_and_findings_come_back(
    settings: Settings, llm: ScriptedLLM, clip: Path
) -> None:
    llm.on(
        "Task: visual critique",
        replies=[Reply(json.dumps(ANSWER), prompt_tokens=2400, completion_tokens=60)],
    )
    meter = UsageMeter()
    findings = await _critique(_settings(settings, llm), clip, meter)

    [request] = llm.requests("Task: visual critique")
    assert STORYBOARD in request.text and "Frame 3 at" in request.text
    images = [Image.open(io.BytesIO(data)) for data in request.images]
    assert [(i.format, i.size) for i in images] == [("JPEG", (768, 432))] * 3  # 854x480 scaled
    assert len({data for data in request.images}) == 3  # three different moments
    assert request.body["model"] == "gpt-4o-mini"

    overlap, other = findings
    assert (overlap.kind, overlap.objects, overlap.message) == (
        "overlap",
        ["title", "circle"],
        "the circle touches the title",
    )
    assert overlap.time_seconds == pytest.approx(1.0 - 1 / 15, abs=0.07)  # the last frame
    assert (other.kind, other.time_seconds) == ("other", None)  # unknown kind, no frame

    [usage] = meter.snapshot()
    assert (usage.model, usage.calls, usage.prompt_tokens, usage.completion_tokens) == (
        "openai/gpt-4o-mini",
        1,
        2400,
        60,
    )
    assert (
        usage.cost_usd
        == estimated_cost("openai/gpt-4o-mini", prompt_tokens=2400, completion_tokens=60)
        > 0
    )


async def test_frame_count_and_width_follow_the_settings(
    settings: Settings, llm: ScriptedLLM, clip: Path
) -> None:
    llm.on("Task: visual critique", replies=['{"findings": []}'])
    findings = await _critique(
        _settings(settings, llm, vision_frames=2, vision_frame_width=320), clip, UsageMeter()
    )
    assert findings == []
    [request] = llm.requests()
    assert [Image.open(io.BytesIO(d)).size for d in request.images] == [(320, 180)] * 2


async def test_an_invalid_answer_is_asked_again(
    settings: Settings, llm: ScriptedLLM, clip: Path
) -> None:
    llm.on("Task: visual critique", replies=["I see a circle.", json.dumps(ANSWER)])
    meter = UsageMeter()
    findings = await _critique(_settings(settings, llm), clip, meter)
    assert [f.kind for f in findings] == ["overlap", "other"]
    _, second = llm.requests("Task: visual critique")
    assert "invalid" in second.text and len(second.images) == 3
    assert meter.snapshot()[0].calls == 2


def test_vision_is_off_by_default_and_the_model_string_is_checked() -> None:
    settings = load_settings({})
    assert settings.vision_model == ""
    assert vision_chat(settings, LLMClients(settings), UsageMeter()) is None
    with pytest.raises(SettingsError, match="VISION_MODEL='gpt-4o'"):
        load_settings({"VISION_MODEL": "gpt-4o"})


@pytest.fixture(scope="module")
def nats_server(private_nats_server: NatsServer) -> NatsServer:
    """The coder's durables run here: a server of this module's own (see test_llm_pipeline)."""
    return private_nats_server


async def test_the_coder_critiques_a_rendered_scene_and_announces_findings(
    settings: Settings, llm: ScriptedLLM, clip: Path
) -> None:
    llm.on("Task: visual critique", replies=[Reply(json.dumps(ANSWER), prompt_tokens=900)])
    job_id, user = str(uuid.uuid4()), "tester"
    context = JobContext(quality="low", scene_model="openai/scripted")
    plan = ScenePlan(
        number=1,
        title="Circles",
        kind="statement",
        class_name="Critiqued",
        storyboard=STORYBOARD,
        technical_plan="Text, Circle",
        narration="A circle.",
    )
    async with connected("critique-test", _settings(settings, llm)) as deps:
        await register_coder(deps)
        await deps.broker.start()
        await deps.jobs.create(
            JobView(
                job_id=job_id,
                user_id=user,
                config=JobConfig(topic="Circles", context="Round things."),
            )
        )
        plan_ref = await deps.artifacts.put_bytes(
            artifacts.plan_name(job_id, 1), msgspec.json.encode(plan)
        )
        clip_ref = await deps.artifacts.put_file(artifacts.clip_name(job_id, 1), clip)
        common: _SceneAttempt = {
            "job_id": job_id,
            "user_id": user,
            "context": context,
            "scene_number": 1,
            "scene_count": 1,
            "attempt": 1,
        }
        await deps.bus.publish(
            SceneCoded(
                **common,
                class_name="Critiqued",
                code_ref="code",
                plan_ref=plan_ref,
                model="openai/scripted",
            )
        )
        await deps.bus.publish(
            SceneRendered(**common, clip_ref=clip_ref, duration_seconds=1.0, render_seconds=1.0)
        )
        events = await _events_until(deps, job_id, SceneCritiqued)
    [critiqued] = [e for e in events if isinstance(e, SceneCritiqued)]
    assert critiqued.model == "openai/gpt-4o-mini"
    assert [(f.kind, f.objects) for f in critiqued.findings] == [
        ("overlap", ["title", "circle"]),
        ("other", []),
    ]
    [usage] = [e for e in events if isinstance(e, UsageRecorded)]
    assert (usage.stage, usage.scene, usage.usage[0].prompt_tokens) == ("critique", 1, 900)
    [report] = scene_reports(events)
    assert report.attempts[0].status == "rendered"
    assert report.attempts[0].findings == critiqued.findings
    assert len(llm.requests("Task: visual critique")[0].images) == 3


async def _events_until(
    deps: StageDeps, job_id: str, kind: type, timeout: float = 60
) -> list[AnyEvent]:
    subscription = await deps.js.subscribe(
        subjects.events_of_job(job_id),
        ordered_consumer=True,
        deliver_policy=js_api.DeliverPolicy.ALL,
    )
    events: list[AnyEvent] = []
    try:
        async with asyncio.timeout(timeout):
            while not any(isinstance(e, kind) for e in events):
                events.append(decode((await subscription.next_msg(timeout=timeout)).data))
            await asyncio.sleep(0.5)  # the usage record is published just before
            with contextlib.suppress(nats.errors.TimeoutError):
                while True:
                    events.append(decode((await subscription.next_msg(timeout=0.5)).data))
    finally:
        await subscription.unsubscribe()
    return events
