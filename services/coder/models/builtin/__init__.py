"""The built-in offline coder: Manim code for a scene plan without any network.

It writes every scene of the built-in planner's plans, and stands in for a scene an LLM
could not make work (SCENE_FALLBACK=builtin). The methods are async only to match the
`SceneCoder` protocol; the work is plain sync.
"""

from __future__ import annotations

from services.coder.models.builtin.code import repair_code, write_code
from shared.plans import ScenePlan

__all__ = ["BuiltinCoder"]


class BuiltinCoder:
    """Deterministic `SceneCoder`: short template scenes, repaired by simplifying."""

    name = "builtin"

    async def write_code(self, plan: ScenePlan) -> str:
        return write_code(plan)

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str:
        return repair_code(plan, code=code, error=error)
