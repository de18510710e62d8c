"""Planning logic: an outline, then each scene written out, scenes in parallel."""

from __future__ import annotations

import asyncio
import keyword

from services.planner.budget import DEFAULT_BUDGET, SceneBudget
from services.planner.models import Planner
from shared.plans import Outline, ScenePlan


class OutlineRejected(ValueError):
    """The model's outline cannot be used (too few or too many scenes)."""


def check_outline(outline: Outline, budget: SceneBudget = DEFAULT_BUDGET) -> Outline:
    """Renumber scenes 1..n and hold the scene count to the job's budget."""
    count = len(outline.scenes)
    low, high = budget.min_scenes, budget.max_scenes
    if not low <= count <= high:
        raise OutlineRejected(f"outline has {count} scenes, expected {low}-{high}")
    for number, scene in enumerate(outline.scenes, start=1):
        scene.number = number
    return outline


async def write_scenes(
    model: Planner,
    *,
    topic: str,
    context: str,
    outline: Outline,
    concurrency: int,
    style: str = "",
    budget: SceneBudget = DEFAULT_BUDGET,
) -> list[ScenePlan]:
    """Every scene's storyboard, technical plan and narration, at most `concurrency` at once.

    Each plan carries the job's `style`, so the coder's prompts get it with the plan.
    """
    limit = asyncio.Semaphore(concurrency)

    async def one(number: int) -> ScenePlan:
        async with limit:
            plan = await model.plan_scene(
                topic=topic,
                context=context,
                outline=outline,
                number=number,
                style=style,
                budget=budget,
            )
        plan.number, plan.style = number, style
        return plan

    plans = list(await asyncio.gather(*(one(s.number) for s in outline.scenes)))
    return with_usable_class_names(plans)


def with_usable_class_names(plans: list[ScenePlan]) -> list[ScenePlan]:
    """Give every scene a unique, valid class name (`Scene03` where the model's is not).

    The renderer renders the class the plan names, so plan, code and render must agree.
    """
    seen: set[str] = set()
    for plan in plans:
        name = plan.class_name
        if not name.isidentifier() or keyword.iskeyword(name) or name in seen:
            plan.class_name = f"Scene{plan.number:02d}"
        seen.add(plan.class_name)
    return plans
