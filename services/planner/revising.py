"""Planner: job.revision_requested → revision.planned + scene.planned for the changed scenes.

Decides which scenes a revision changes (the owner's scene, else the model's or the
built-in rule's choice), announces it, then re-plans each of them from the plan that made
its current clip. The narrator, coder and renderer take them from there as for any
scene; the renderer takes the other scenes from its cache when it hears the decision.
"""

from __future__ import annotations

import logging

import msgspec

from services.planner.models.reviser import Reviser, resolve_reviser
from shared import artifacts
from shared.artifacts import ArtifactMissing
from shared.errors import PermanentError
from shared.events import (
    RevisionPlanned,
    RevisionRequested,
    SceneCoded,
    ScenePlanned,
    UsageRecorded,
)
from shared.llm.providers import LLMClients, UnknownModel
from shared.llm.usage import UsageMeter
from shared.logs import timed
from shared.plans import Outline, ScenePlan
from shared.service import StageDeps

log = logging.getLogger("videogen.planner")


async def revise_job(deps: StageDeps, clients: LLMClients, event: RevisionRequested) -> None:
    await deps.bus.progress(event, "planning", detail=f"revision {event.context.revision}")
    outline = msgspec.json.decode(
        await _artifact(deps, artifacts.outline_name(event.job_id)), type=Outline
    )
    meter = UsageMeter()
    reviser = _reviser(deps, clients, meter)
    try:
        with timed(log, "revision", revision=event.context.revision, model=reviser.name):
            scenes, reason = await _scenes(reviser, event, outline)
            await deps.bus.publish(
                RevisionPlanned(
                    job_id=event.job_id,
                    user_id=event.user_id,
                    context=event.context,
                    scene_count=event.scene_count,
                    scenes=scenes,
                    reason=reason,
                )
            )
            await deps.bus.progress(event, "scenario_creation")
            for number in scenes:
                plan = await reviser.revise(
                    topic=event.config.topic,
                    plan=await current_plan(deps, event.job_id, number),
                    instruction=event.instruction,
                )
                await _publish_plan(deps, event, plan)
    finally:
        if usage := meter.snapshot():
            await deps.bus.publish(
                UsageRecorded(
                    job_id=event.job_id,
                    user_id=event.user_id,
                    stage="planning",
                    usage=usage,
                    attempt=event.context.first_attempt,
                )
            )


async def _scenes(
    reviser: Reviser, event: RevisionRequested, outline: Outline
) -> tuple[list[int], str]:
    if event.scene is not None:
        return [event.scene], f"the owner named scene {event.scene}"
    return await reviser.touched(
        topic=event.config.topic, outline=outline, instruction=event.instruction
    )


async def current_plan(deps: StageDeps, job_id: str, number: int) -> ScenePlan:
    """The plan that made the scene's current clip (a revision may have re-planned it)."""
    coded = msgspec.json.decode(
        await _artifact(deps, artifacts.rendered_name(job_id, number)), type=SceneCoded
    )
    return msgspec.json.decode(await _artifact(deps, coded.plan_ref), type=ScenePlan)


async def _publish_plan(deps: StageDeps, event: RevisionRequested, plan: ScenePlan) -> None:
    ref = await deps.artifacts.put_bytes(
        artifacts.plan_name(event.job_id, plan.number, event.context.revision),
        msgspec.json.encode(plan),
    )
    await deps.bus.publish(
        ScenePlanned(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=plan.number,
            scene_count=event.scene_count,
            title=plan.title,
            plan_ref=ref,
        )
    )


async def _artifact(deps: StageDeps, name: str) -> bytes:
    try:
        return await deps.artifacts.get_bytes(name)
    except ArtifactMissing as exc:
        raise PermanentError(
            f"the job's plans are no longer stored ({name.split('/', 1)[-1]})",
            code="REVISION_UNAVAILABLE",
            suggestion="The job's intermediate files expired or were removed "
            "(STORAGE_CLEANUP); generate the video again.",
        ) from exc


def _reviser(deps: StageDeps, clients: LLMClients, meter: UsageMeter) -> Reviser:
    try:
        return resolve_reviser(deps.settings.planner_model, clients=clients, meter=meter)
    except UnknownModel as exc:
        raise PermanentError(
            str(exc), code="MODEL_UNAVAILABLE", suggestion="Check PLANNER_MODEL."
        ) from exc
