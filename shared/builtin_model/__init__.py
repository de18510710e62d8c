"""The built-in offline model: plans and writes Manim scenes without any network.

It lets the whole pipeline (and its tests) run without an LLM: same input, same video.
The methods are async only to match the `SceneModel` protocol; the work is plain sync.
"""

from __future__ import annotations

from shared.builtin_model.code import repair_code, write_code
from shared.builtin_model.outline import build_outline, build_plan
from shared.model import Outline, ScenePlan

__all__ = ["BuiltinModel"]


class BuiltinModel:
    """Deterministic `SceneModel`: topic and context in, 3-5 short Manim scenes out."""

    name = "builtin"

    async def outline(self, *, topic: str, context: str) -> Outline:
        return build_outline(topic, context)

    async def plan_scene(
        self, *, topic: str, context: str, outline: Outline, number: int
    ) -> ScenePlan:
        return build_plan(topic, context, outline, number)

    async def write_code(self, plan: ScenePlan) -> str:
        return write_code(plan)

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str:
        return repair_code(plan, code=code, error=error)
