"""`LLMPlanner`: outlines and scene plans written by an LLM, as validated JSON.

The model answers JSON that msgspec validates (`_OutlineAnswer`, `plan_answer`); an
invalid answer is sent back with the validation error (`ask_structured`). The prompts
are the files in services/planner/prompts; the job's `SceneBudget` sets how many scenes,
beats and words they ask for.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import msgspec

from services.planner.budget import DEFAULT_BUDGET, MAX_SCENES, MIN_SCENES, SceneBudget
from services.planner.models.plan_answer import PlanAnswer, check_plan, plan_parts
from shared.llm.client import ChatClient, Message
from shared.llm.prompts import PromptFolder
from shared.llm.structured import InvalidAnswer, ask_structured
from shared.plans import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    MAX_BEAT_CHARS,
    MIN_SPACING,
    REGIONS,
    SAFE_MARGIN,
    Outline,
    SceneOutline,
    ScenePlan,
)

PROMPTS = PromptFolder(Path(__file__).resolve().parents[1] / "prompts")
NO_STYLE = "(none given)"


class _Scene(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    purpose: str = ""
    kind: str = "statement"


class _OutlineAnswer(msgspec.Struct):
    scenes: Annotated[list[_Scene], msgspec.Meta(min_length=MIN_SCENES, max_length=MAX_SCENES)]


def _check_scene_count(answer: _OutlineAnswer, budget: SceneBudget) -> None:
    """The budget's scene count, so a re-ask fixes it rather than failing the job."""
    count, low, high = len(answer.scenes), budget.min_scenes, budget.max_scenes
    if not low <= count <= high:
        raise InvalidAnswer(f"the outline has {count} scenes; it must have {low} to {high}")


def class_name_for(number: int, title: str) -> str:
    """A valid, readable Python class name for a scene: `Scene02ThePythagoreanTheorem`."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    camel = "".join(word[:1].upper() + word[1:] for word in words)[:40]
    return f"Scene{number:02d}{camel}"


class LLMPlanner:
    """Plans a video and its scenes with an LLM; see the module docstring."""

    def __init__(self, chat: ChatClient, *, max_reasks: int = 2) -> None:
        self.chat = chat
        self.max_reasks = max_reasks
        self.name = chat.model_string
        self.manim_version = version("manim")

    def _messages(self, prompt: str, **values: object) -> list[Message]:
        return PROMPTS.messages(prompt, manim_version=self.manim_version, **values)

    async def outline(
        self, *, topic: str, context: str, style: str = "", budget: SceneBudget = DEFAULT_BUDGET
    ) -> Outline:
        answer = await ask_structured(
            self.chat,
            self._messages(
                "outline",
                topic=topic,
                context=context or topic,
                minutes=f"{budget.target_minutes:g}",
                scenes=budget.scenes,
                min_scenes=budget.min_scenes,
                max_scenes=budget.max_scenes,
                scene_seconds=round(budget.scene_seconds),
                style=style or NO_STYLE,
            ),
            _OutlineAnswer,
            purpose="outline",
            max_reasks=self.max_reasks,
            check=lambda answer: _check_scene_count(answer, budget),
        )
        return Outline(
            topic=topic,
            scenes=[
                SceneOutline(number=n, title=s.title, purpose=s.purpose, kind=s.kind)
                for n, s in enumerate(answer.scenes, start=1)
            ],
        )

    async def plan_scene(
        self,
        *,
        topic: str,
        context: str,
        outline: Outline,
        number: int,
        style: str = "",
        budget: SceneBudget = DEFAULT_BUDGET,
    ) -> ScenePlan:
        scene = next(s for s in outline.scenes if s.number == number)
        listing = "\n".join(f"{s.number}. {s.title}: {s.purpose}" for s in outline.scenes)
        answer = await ask_structured(
            self.chat,
            self._messages(
                "scene_plan",
                topic=topic,
                context=context or topic,
                outline=listing,
                number=number,
                title=scene.title,
                purpose=scene.purpose,
                style=style or NO_STYLE,
                frame_width=FRAME_WIDTH,
                frame_height=FRAME_HEIGHT,
                safe_margin=SAFE_MARGIN,
                min_spacing=MIN_SPACING,
                regions=", ".join(REGIONS),
                beats=budget.beats_per_scene,
                words_per_beat=budget.words_per_beat,
                words=budget.words_per_scene,
                scene_seconds=round(budget.scene_seconds),
                max_beat_chars=MAX_BEAT_CHARS,
            ),
            PlanAnswer,
            purpose="scene_plan",
            max_reasks=self.max_reasks,
            check=check_plan,
        )
        objects, beats = plan_parts(answer)
        return ScenePlan(
            number=number,
            title=scene.title,
            kind=scene.kind,
            class_name=class_name_for(number, scene.title),
            storyboard=answer.storyboard,
            technical_plan=answer.technical_plan,
            objects=objects,
            beats=beats,
        )
