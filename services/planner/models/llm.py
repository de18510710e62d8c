"""`LLMPlanner`: outlines and scene plans written by an LLM, as validated JSON.

The model answers JSON that msgspec validates (`_OutlineAnswer`, `_PlanAnswer`); an
invalid answer is sent back with the validation error (`ask_structured`). The prompts
are the files in services/planner/prompts.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import msgspec

from shared.llm.client import ChatClient, Message
from shared.llm.prompts import PromptFolder
from shared.llm.structured import InvalidAnswer, ask_structured
from shared.plans import MAX_SCENES, MIN_SCENES, Outline, SceneOutline, ScenePlan

PROMPTS = PromptFolder(Path(__file__).resolve().parents[1] / "prompts")
NO_STYLE = "(none given)"


class _Scene(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    purpose: str = ""
    kind: str = "statement"


class _OutlineAnswer(msgspec.Struct):
    scenes: Annotated[list[_Scene], msgspec.Meta(min_length=MIN_SCENES, max_length=MAX_SCENES)]


class _PlanAnswer(msgspec.Struct):
    storyboard: Annotated[str, msgspec.Meta(min_length=1)]
    technical_plan: Annotated[str, msgspec.Meta(min_length=1)]
    narration: Annotated[str, msgspec.Meta(min_length=1)]


def _check_plan(answer: _PlanAnswer) -> None:
    if len(answer.narration.split()) < 3:
        raise InvalidAnswer("the narration must be at least one full sentence")


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

    async def outline(self, *, topic: str, context: str, style: str = "") -> Outline:
        answer = await ask_structured(
            self.chat,
            self._messages(
                "outline",
                topic=topic,
                context=context or topic,
                min_scenes=MIN_SCENES,
                max_scenes=MAX_SCENES,
                style=style or NO_STYLE,
            ),
            _OutlineAnswer,
            purpose="outline",
            max_reasks=self.max_reasks,
        )
        return Outline(
            topic=topic,
            scenes=[
                SceneOutline(number=n, title=s.title, purpose=s.purpose, kind=s.kind)
                for n, s in enumerate(answer.scenes, start=1)
            ],
        )

    async def plan_scene(
        self, *, topic: str, context: str, outline: Outline, number: int, style: str = ""
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
            ),
            _PlanAnswer,
            purpose="scene_plan",
            max_reasks=self.max_reasks,
            check=_check_plan,
        )
        return ScenePlan(
            number=number,
            title=scene.title,
            kind=scene.kind,
            class_name=class_name_for(number, scene.title),
            storyboard=answer.storyboard,
            technical_plan=answer.technical_plan,
            narration=answer.narration,
        )
