"""Who revises a finished video's plans: the built-in rule, or the planner's LLM.

`resolve_reviser` follows PLANNER_MODEL like `resolve_planner`: with an LLM the model
decides which scenes an instruction touches and rewrites their plans (validated JSON);
the built-in model uses the deterministic functions of services/planner/revision.py.
"""

from __future__ import annotations

from typing import Annotated, Protocol

import msgspec

from services.planner.models.llm import PROMPTS, LLMPlanner
from services.planner.models.plan_answer import PlanAnswer, check_plan, plan_parts
from services.planner.revision import revised_plan, touched_by_rule
from shared.llm.providers import LLMClients
from shared.llm.structured import InvalidAnswer, ask_structured
from shared.llm.usage import UsageMeter
from shared.plans import MAX_BEAT_CHARS, REGIONS, Outline, ScenePlan


class Reviser(Protocol):
    name: str

    async def touched(
        self, *, topic: str, outline: Outline, instruction: str
    ) -> tuple[list[int], str]: ...

    async def revise(self, *, topic: str, plan: ScenePlan, instruction: str) -> ScenePlan: ...


class BuiltinReviser:
    name = "builtin"

    async def touched(
        self, *, topic: str, outline: Outline, instruction: str
    ) -> tuple[list[int], str]:
        return touched_by_rule(outline, instruction)

    async def revise(self, *, topic: str, plan: ScenePlan, instruction: str) -> ScenePlan:
        return revised_plan(plan, instruction)


class _ScenesAnswer(msgspec.Struct):
    scenes: Annotated[list[int], msgspec.Meta(min_length=1)]
    reason: str = ""


class LLMReviser:
    """The planner's LLM, asked with the prompts `revision_scenes` and `revision_plan`."""

    def __init__(self, planner: LLMPlanner) -> None:
        self.planner = planner
        self.name = planner.name

    async def touched(
        self, *, topic: str, outline: Outline, instruction: str
    ) -> tuple[list[int], str]:
        count = len(outline.scenes)

        def in_range(answer: _ScenesAnswer) -> None:
            if not all(1 <= n <= count for n in answer.scenes):
                raise InvalidAnswer(f"scene numbers must be between 1 and {count}")

        answer = await ask_structured(
            self.planner.chat,
            PROMPTS.messages(
                "revision_scenes",
                manim_version=self.planner.manim_version,
                topic=topic,
                outline="\n".join(f"{s.number}. {s.title}: {s.purpose}" for s in outline.scenes),
                instruction=instruction,
            ),
            _ScenesAnswer,
            purpose="revision_scenes",
            max_reasks=self.planner.max_reasks,
            check=in_range,
        )
        return sorted(set(answer.scenes)), answer.reason or f"{self.name} chose them"

    async def revise(self, *, topic: str, plan: ScenePlan, instruction: str) -> ScenePlan:
        answer = await ask_structured(
            self.planner.chat,
            PROMPTS.messages(
                "revision_plan",
                manim_version=self.planner.manim_version,
                topic=topic,
                number=plan.number,
                title=plan.title,
                plan=msgspec.json.encode(_plan_answer(plan)).decode(),
                regions=", ".join(REGIONS),
                max_beat_chars=MAX_BEAT_CHARS,
                instruction=instruction,
            ),
            PlanAnswer,
            purpose="revision_plan",
            max_reasks=self.planner.max_reasks,
            check=check_plan,
        )
        objects, beats = plan_parts(answer)
        return msgspec.structs.replace(
            plan,
            storyboard=answer.storyboard,
            technical_plan=answer.technical_plan,
            objects=objects,
            beats=beats,
            speech_seconds=None,
        )


def _plan_answer(plan: ScenePlan) -> dict[str, object]:
    """The plan in the shape the model answers in, so it edits rather than restarts."""
    return {
        "storyboard": plan.storyboard,
        "objects": [msgspec.to_builtins(o) for o in plan.objects],
        "technical_plan": plan.technical_plan,
        "beats": [
            {"narration": b.narration, "visual": b.visual, "animations": b.animations}
            for b in plan.beats
        ]
        or [{"narration": plan.narration, "visual": "", "animations": []}],
    }


def resolve_reviser(name: str, *, clients: LLMClients, meter: UsageMeter) -> Reviser:
    if name == "builtin":
        return BuiltinReviser()
    chat = clients.chat(name, meter=meter)
    return LLMReviser(LLMPlanner(chat, max_reasks=clients.settings.llm_max_reasks))
