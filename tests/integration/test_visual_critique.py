"""Visual critique through a local OpenAI-compatible vision server (tests/llm_server.py).

A real -ql clip is rendered once; its key frames must reach the server as image_url parts
that decode as JPEGs of the configured size, the model's JSON must become findings with
frame times, and the call's tokens and cost must land on the usage meter.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from services.coder.critique import Finding, critique_scene, vision_chat
from services.renderer.render import render_scene
from shared.llm.providers import LLMClients
from shared.llm.usage import UsageMeter, estimated_cost
from shared.settings import Settings, SettingsError, load_settings
from tests.llm_server import Reply, ScriptedLLM

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


def _settings(settings: Settings, llm: ScriptedLLM, **overrides: object) -> Settings:
    return replace(
        settings,
        vision_model="openai/gpt-4o-mini",
        openai_base_url=llm.base_url,
        llm_retry_base_seconds=0.05,
        **overrides,
    )


async def _critique(settings: Settings, clip: Path, meter: UsageMeter) -> list[Finding]:
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
