"""Planner: job.requested → progress (initializing, planning, scenario_creation) + scene.planned."""

from __future__ import annotations

import logging
from typing import TypeVar

import msgspec

from services.planner.budget import scene_budget
from services.planner.models import Planner, resolve_planner
from services.planner.revising import revise_job
from services.planner.scenario import OutlineRejected, check_outline, write_scenes
from shared import artifacts
from shared.artifacts import ArtifactMissing
from shared.broker import CONSUMERS
from shared.errors import PermanentError
from shared.events import JobRequested, RevisionRequested, ScenePlanned, UsageRecorded
from shared.llm.providers import LLMClients, UnknownModel
from shared.llm.usage import UsageMeter
from shared.logs import timed
from shared.plans import Outline, ScenePlan, style_text
from shared.service import StageDeps

log = logging.getLogger("videogen.planner")
T = TypeVar("T")


def register(deps: StageDeps) -> None:
    clients = LLMClients(deps.settings)

    async def on_job_requested(event: JobRequested) -> None:
        await plan_job(deps, clients, event)

    async def on_revision_requested(event: RevisionRequested) -> None:
        await revise_job(deps, clients, event)

    for consumer in ("planner", "planner-priority"):  # high and urgent jobs: their own lane
        deps.runner.subscribe(
            deps.broker, CONSUMERS[consumer], JobRequested, on_job_requested, stage="planning"
        )
    for consumer in ("planner-revision", "planner-revision-priority"):
        deps.runner.subscribe(
            deps.broker,
            CONSUMERS[consumer],
            RevisionRequested,
            on_revision_requested,
            stage="planning",
        )


async def plan_job(deps: StageDeps, clients: LLMClients, event: JobRequested) -> None:
    log.info(
        "job started",
        extra={
            "user_id": event.user_id,
            "topic": event.config.topic,
            "quality": event.context.quality,
            "model": event.context.scene_model,
        },
    )
    await deps.bus.progress(event, "initializing")
    config = event.config
    style = style_text(config.style_preferences)
    budget = scene_budget(config.target_minutes)
    await deps.bus.progress(event, "planning")
    outline = await _stored(deps, artifacts.outline_name(event.job_id), Outline)
    if outline is None:
        meter = UsageMeter()
        model = _model(deps, clients, meter)
        with timed(log, "planning", model=model.name):
            try:
                outline = check_outline(
                    await model.outline(
                        topic=config.topic, context=config.context, style=style, budget=budget
                    ),
                    budget,
                )
            except OutlineRejected as exc:
                raise PermanentError(str(exc), code="PLANNING_FAILED") from exc
            finally:
                await _record_usage(deps, event, meter, stage="planning")
        await deps.artifacts.put_bytes(
            artifacts.outline_name(event.job_id), msgspec.json.encode(outline)
        )
    await deps.bus.progress(event, "scenario_creation")
    meter = UsageMeter()
    model = _model(deps, clients, meter)
    with timed(log, "scenario_creation", scenes=len(outline.scenes)):
        try:
            plans = await write_scenes(
                model,
                topic=config.topic,
                context=config.context,
                outline=outline,
                concurrency=deps.settings.max_scene_concurrency,
                style=style,
                budget=budget,
            )
        finally:
            await _record_usage(deps, event, meter, stage="scenario_creation")
    for plan in plans:
        await _publish_plan(deps, event, plan, scene_count=len(plans))


def _model(deps: StageDeps, clients: LLMClients, meter: UsageMeter) -> Planner:
    try:
        return resolve_planner(deps.settings.planner_model, clients=clients, meter=meter)
    except UnknownModel as exc:
        raise PermanentError(
            str(exc), code="MODEL_UNAVAILABLE", suggestion="Check PLANNER_MODEL."
        ) from exc


async def _record_usage(
    deps: StageDeps, event: JobRequested, meter: UsageMeter, *, stage: str
) -> None:
    if usage := meter.snapshot():
        await deps.bus.publish(
            UsageRecorded(job_id=event.job_id, user_id=event.user_id, stage=stage, usage=usage)
        )


async def _publish_plan(
    deps: StageDeps, event: JobRequested, plan: ScenePlan, *, scene_count: int
) -> None:
    ref = await deps.artifacts.put_bytes(
        artifacts.plan_name(event.job_id, plan.number), msgspec.json.encode(plan)
    )
    await deps.bus.publish(
        ScenePlanned(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=plan.number,
            scene_count=scene_count,
            title=plan.title,
            plan_ref=ref,
        )
    )


async def _stored(deps: StageDeps, name: str, kind: type[T]) -> T | None:
    """A result an earlier delivery of this event already produced, if any."""
    try:
        return msgspec.json.decode(await deps.artifacts.get_bytes(name), type=kind)
    except ArtifactMissing:
        return None
