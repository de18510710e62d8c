"""The coder's side of narrated jobs: the scene's speech in, timed code out.

Small glue between the handlers and `timing`: which plan a model sees, when the
built-in model's code gets paced, where a repair finds the narration again, and how a
render-only job's own code goes on once its narration is spoken.
"""

from __future__ import annotations

import msgspec

from services.coder.timing import paced, timed_plan
from shared import artifacts
from shared.artifacts import ArtifactMissing
from shared.events import Narration, SceneCoded, SceneNarrated, SceneRenderFailed
from shared.plans import ScenePlan
from shared.service import StageDeps


def timed_for(plan: ScenePlan, narration: Narration | None, model: str) -> ScenePlan:
    """The plan a model is given: with beat timings when an LLM writes a narrated scene.

    The built-in model gets the plan as it is (it draws from the narration's words) and
    is paced afterwards (`paced_builtin`).
    """
    if narration is None or model == "builtin":
        return plan
    return timed_plan(plan, narration)


def paced_builtin(code: str, narration: Narration | None, plan: ScenePlan) -> str:
    """The built-in model's code spread over the beats (unchanged when silent)."""
    return code if narration is None else paced(code, narration, class_name=plan.class_name)


async def load_narration(deps: StageDeps, event: SceneRenderFailed) -> Narration | None:
    """The narration the narrator stored for the scene (None for a silent job)."""
    if not event.context.narrate:
        return None
    revision = event.context.revision
    try:  # the revision's own, when it re-planned the scene; else the original's
        data = await deps.artifacts.get_bytes(
            artifacts.narration_name(event.job_id, event.scene_number, revision)
        )
    except ArtifactMissing:
        if revision == 1:
            return None
        try:
            data = await deps.artifacts.get_bytes(
                artifacts.narration_name(event.job_id, event.scene_number)
            )
        except ArtifactMissing:
            return None
    return msgspec.json.decode(data, type=Narration)


async def pass_client_code(deps: StageDeps, event: SceneNarrated) -> None:
    """A render-only scene: the client's code, now with its speech, goes to the renderer."""
    await deps.bus.publish(
        SceneCoded(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=event.scene_number,
            scene_count=event.scene_count,
            attempt=1,
            class_name=event.class_name or "",
            code_ref=event.client_code_ref or "",
            plan_ref=event.plan_ref,
            model=event.context.scene_model,
            repairable=False,
            narration=event.narration,
        )
    )
