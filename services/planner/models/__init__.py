"""The seam between the planner and whatever writes its outlines and scene plans.

The planner only ever talks to a `Planner`: the built-in offline model (`builtin`) and
an LLM (`llm.LLMPlanner`) implement the same two calls, so the stage never knows which
one it is driving.
"""

from __future__ import annotations

from typing import Protocol

from services.planner.budget import DEFAULT_BUDGET, SceneBudget
from services.planner.models.builtin import BuiltinPlanner
from services.planner.models.llm import LLMPlanner
from shared.llm.providers import LLMClients
from shared.llm.usage import UsageMeter
from shared.plans import Outline, ScenePlan


class Planner(Protocol):
    """Outlines a video and writes each scene's plan."""

    name: str

    async def outline(
        self, *, topic: str, context: str, style: str = "", budget: SceneBudget = DEFAULT_BUDGET
    ) -> Outline: ...

    async def plan_scene(
        self,
        *,
        topic: str,
        context: str,
        outline: Outline,
        number: int,
        style: str = "",
        budget: SceneBudget = DEFAULT_BUDGET,
    ) -> ScenePlan: ...


def resolve_planner(name: str, *, clients: LLMClients, meter: UsageMeter | None = None) -> Planner:
    """The planner a setting names: `builtin`, or `provider/model` behind `clients`."""
    if name == "builtin":
        return BuiltinPlanner()
    return LLMPlanner(clients.chat(name, meter=meter), max_reasks=clients.settings.llm_max_reasks)
