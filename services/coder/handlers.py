"""Coder: scene.planned → scene.coded; scene.render_failed → a repaired scene.coded."""

from __future__ import annotations

import logging

import msgspec

from services.coder.checks import code_problems
from shared import artifacts
from shared.broker import CONSUMERS
from shared.errors import PermanentError
from shared.events import JobContext, SceneCoded, ScenePlanned, SceneRenderFailed
from shared.logs import timed
from shared.model import SceneModel, ScenePlan, UnknownModel, resolve_model
from shared.service import StageDeps

log = logging.getLogger("videogen.coder")


def register(deps: StageDeps) -> None:
    async def on_scene_planned(event: ScenePlanned) -> None:
        await write_scene(deps, event)

    async def on_render_failed(event: SceneRenderFailed) -> None:
        await repair_scene(deps, event)

    concurrency = deps.settings.max_scene_concurrency
    deps.runner.subscribe(
        deps.broker, CONSUMERS["coder"], ScenePlanned, on_scene_planned,
        stage="code_generation", concurrency=concurrency,
    )
    deps.runner.subscribe(
        deps.broker, CONSUMERS["coder-repair"], SceneRenderFailed, on_render_failed,
        stage="rendering", concurrency=concurrency,
    )


async def write_scene(deps: StageDeps, event: ScenePlanned) -> None:
    await deps.bus.progress(event, "code_generation", scene=event.scene_number)
    model = _model(event.context)
    plan = await _plan(deps, event.plan_ref)
    with timed(log, "code_generation", scene=event.scene_number, model=model.name):
        code = await model.write_code(plan)
    await _publish_code(deps, event, plan, code, attempt=1, model=model)


async def repair_scene(deps: StageDeps, event: SceneRenderFailed) -> None:
    if event.attempt >= deps.settings.max_fix_attempts:
        raise PermanentError(
            f"scene {event.scene_number} failed to render {event.attempt} times; "
            f"last error: {event.error.message}",
            code="RENDER_FAILED",
            stage="rendering",
            suggestion="Simplify the topic or description, or try another model; "
            "the scene's code and traceback are in the job's logs.",
            details={"scene": event.scene_number, "kind": event.error.kind,
                     "traceback": event.error.traceback[-2000:]},
        )
    model = _model(event.context)
    plan = await _plan(deps, event.plan_ref)
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    with timed(log, "code repair", scene=event.scene_number, attempt=event.attempt):
        fixed = await model.repair_code(plan, code=code, error=event.error.traceback or
                                        event.error.message)
    await _publish_code(deps, event, plan, fixed, attempt=event.attempt + 1, model=model)


async def _publish_code(
    deps: StageDeps,
    event: ScenePlanned | SceneRenderFailed,
    plan: ScenePlan,
    code: str,
    *,
    attempt: int,
    model: SceneModel,
) -> None:
    problems = code_problems(code, class_name=plan.class_name)
    if problems:
        raise PermanentError(
            f"scene {plan.number}: generated code is unusable: {'; '.join(problems)}",
            code="CODE_GENERATION_FAILED",
            suggestion="Try again or choose another model.",
        )
    ref = await deps.artifacts.put_bytes(
        artifacts.code_name(event.job_id, plan.number, attempt), code.encode()
    )
    await deps.bus.publish(
        SceneCoded(
            job_id=event.job_id, user_id=event.user_id, context=event.context,
            scene_number=plan.number, scene_count=event.scene_count, attempt=attempt,
            class_name=plan.class_name, code_ref=ref, plan_ref=event.plan_ref, model=model.name,
        )
    )


def _model(context: JobContext) -> SceneModel:
    try:
        return resolve_model(context.scene_model)
    except UnknownModel as exc:
        raise PermanentError(
            str(exc), code="MODEL_UNAVAILABLE", suggestion="Check SCENE_MODEL or the job's model."
        ) from exc


async def _plan(deps: StageDeps, ref: str) -> ScenePlan:
    return msgspec.json.decode(await deps.artifacts.get_bytes(ref), type=ScenePlan)
