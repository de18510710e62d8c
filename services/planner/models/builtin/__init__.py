"""The built-in offline planner: outlines and scene plans without any network.

It lets the whole pipeline (and its tests) run without an LLM: same input, same video.
Style preferences are for a model's prompts: the templates here have one look.
The methods are async only to match the `Planner` protocol; the work is plain sync.
"""

from __future__ import annotations

from services.planner.budget import DEFAULT_BUDGET, SceneBudget
from services.planner.models.builtin.outline import build_outline, build_plan
from shared.plans import Outline, ScenePlan

__all__ = ["BuiltinPlanner"]


class BuiltinPlanner:
    """Deterministic `Planner`: topic and context in, as many scenes as the budget and
    the context allow."""

    name = "builtin"

    async def outline(
        self, *, topic: str, context: str, style: str = "", budget: SceneBudget = DEFAULT_BUDGET
    ) -> Outline:
        return build_outline(topic, context, budget)

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
        return build_plan(topic, context, outline, number, budget)
