"""Coder: scene.planned → scene.coded; scene.render_failed → a repaired scene.coded.

Start-up builds (or loads from its cache) the Manim docs index when USE_RAG is on, so
no job ever waits for it. A scene the job's model cannot make work, within
MAX_FIX_ATTEMPTS fixes, falls back to the built-in model's version (SCENE_FALLBACK).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from services.coder.api_fixes import ApiFixes, store_rewrites, stored_report
from services.coder.authoring import (
    CodeRejected,
    fallback_code,
    render_error_report,
    repair_checked,
    write_checked,
)
from services.coder.checks import code_problems, manim_names
from services.coder.critique import critique_rendered
from shared import artifacts
from shared.broker import CONSUMERS
from shared.errors import PermanentError
from shared.events import (
    ApiRewrite,
    JobContext,
    SceneCoded,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    UsageRecorded,
)
from shared.llm.providers import LLMClients
from shared.llm.usage import UsageMeter
from shared.logs import timed
from shared.model import SceneModel, ScenePlan, UnknownModel, resolve_model
from shared.runtime import backoff_delay
from shared.service import StageDeps

if TYPE_CHECKING:
    from services.coder.retrieval.index import DocsIndex

log = logging.getLogger("videogen.coder")
Source = ScenePlanned | SceneRenderFailed


@dataclass(frozen=True)
class Coder:
    """What the coder's handlers share in one process."""

    deps: StageDeps
    clients: LLMClients
    docs: DocsIndex | None

    def model(self, context: JobContext, meter: UsageMeter) -> SceneModel:
        docs = self.docs if context.use_rag else None
        try:
            return resolve_model(context.scene_model, clients=self.clients, docs=docs, meter=meter)
        except UnknownModel as exc:
            raise PermanentError(
                str(exc), code="MODEL_UNAVAILABLE",
                suggestion="Check SCENE_MODEL or the job's model.",
            ) from exc

    def check(self, plan: ScenePlan) -> functools.partial[list[str]]:
        return functools.partial(
            _problems, class_name=plan.class_name, known_names=manim_names()
        )

    def may_fall_back(self, model: SceneModel) -> bool:
        return model.name != "builtin" and self.deps.settings.scene_fallback == "builtin"


def _problems(code: str, *, class_name: str, known_names: frozenset[str]) -> list[str]:
    return code_problems(code, class_name=class_name, known_names=known_names)


async def register(deps: StageDeps) -> None:
    settings = deps.settings
    clients = LLMClients(settings)
    docs = None
    if settings.use_rag:
        # Qdrant's client takes seconds to import: only a coder that retrieves pays it.
        from services.coder.retrieval.index import open_index

        embedder = clients.embeddings(settings.embeddings_model) if settings.embeddings_model \
            else None
        with timed(log, "docs index", qdrant_url=settings.qdrant_url or "in-process"):
            docs = await open_index(
                settings.data_dir / "rag", qdrant_url=settings.qdrant_url, embedder=embedder
            )
    await asyncio.to_thread(manim_names)  # import Manim now, not inside the first job
    coder = Coder(deps, clients, docs)

    async def on_scene_planned(event: ScenePlanned) -> None:
        await write_scene(coder, event)

    async def on_render_failed(event: SceneRenderFailed) -> None:
        await repair_scene(coder, event)

    concurrency = settings.max_scene_concurrency
    deps.runner.subscribe(
        deps.broker, CONSUMERS["coder"], ScenePlanned, on_scene_planned,
        stage="code_generation", concurrency=concurrency,
    )
    deps.runner.subscribe(
        deps.broker, CONSUMERS["coder-repair"], SceneRenderFailed, on_render_failed,
        stage="rendering", concurrency=concurrency,
    )

    async def on_scene_rendered(event: SceneRendered) -> None:
        await critique_rendered(deps, clients, event)  # returns at once when VISION_MODEL is off

    deps.runner.subscribe(
        deps.broker, CONSUMERS["coder-critique"], SceneRendered, on_scene_rendered,
        stage="rendering", concurrency=concurrency,
    )


async def write_scene(coder: Coder, event: ScenePlanned) -> None:
    deps = coder.deps
    await deps.bus.progress(event, "code_generation", scene=event.scene_number)
    meter = UsageMeter()
    model = coder.model(event.context, meter)
    plan = await _plan(deps, event.plan_ref)
    fixes = ApiFixes()
    try:
        with timed(log, "code_generation", scene=event.scene_number, model=model.name):
            code = await write_checked(
                model, plan, check=coder.check(plan), rounds=deps.settings.max_fix_attempts,
                fix=fixes,
            )
    except (CodeRejected, PermanentError) as exc:
        await _give_up(coder, event, plan, model, attempt=1, reason=_reason(exc))
        return
    finally:
        await _record_usage(deps, event, meter, stage="code_generation", attempt=1)
    await _publish_code(
        deps, event, plan, code, attempt=1, model=model.name, rewrites=fixes.rewrites
    )


async def repair_scene(coder: Coder, event: SceneRenderFailed) -> None:
    deps = coder.deps
    meter = UsageMeter()
    model = coder.model(event.context, meter)
    plan = await _plan(deps, event.plan_ref)
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    attempt = event.attempt + 1
    failure = f"attempt {event.attempt} failed to render: {event.error.message}"
    if not event.error.recoverable:
        raise _render_failed(event, "no change of the code can help")
    if model.name != "builtin" and code == await fallback_code(plan):
        raise _render_failed(event, "even the built-in model's version failed to render")
    if event.attempt > deps.settings.max_fix_attempts:
        await _give_up(coder, event, plan, model, attempt=attempt, reason=failure)
        return
    await asyncio.sleep(backoff_delay(event.attempt, base=deps.settings.fix_backoff_seconds))
    rewritten = await stored_report(deps.artifacts, event.job_id, plan.number, event.attempt)
    error = "\n\n".join(filter(None, [render_error_report(event.error, code), rewritten]))
    fixes = ApiFixes()
    try:
        with timed(log, "code repair", scene=event.scene_number, attempt=event.attempt):
            fixed = await repair_checked(
                model, plan, code=code, error=error,
                check=coder.check(plan), rounds=deps.settings.max_fix_attempts, fix=fixes,
            )
    except (CodeRejected, PermanentError) as exc:
        await _give_up(coder, event, plan, model, attempt=attempt, reason=_reason(exc))
        return
    finally:
        await _record_usage(deps, event, meter, stage="repair", attempt=attempt)
    await _publish_code(
        deps, event, plan, fixed, attempt=attempt, model=model.name, rewrites=fixes.rewrites
    )


async def _give_up(
    coder: Coder, event: Source, plan: ScenePlan, model: SceneModel, *, attempt: int,
    reason: str,
) -> None:
    """Fall back to the built-in model's scene, or fail the job when that is not allowed."""
    if not coder.may_fall_back(model):
        if isinstance(event, SceneRenderFailed):
            raise _render_failed(event, reason)
        raise PermanentError(
            f"scene {plan.number}: {model.name} wrote no usable code: {reason}",
            code="CODE_GENERATION_FAILED",
            suggestion="Try again, choose another model, or set SCENE_FALLBACK=builtin.",
        )
    log.warning("scene %d falls back to the built-in model: %s", plan.number, reason)
    await _publish_code(
        coder.deps, event, plan, await fallback_code(plan), attempt=attempt, model="builtin",
        fallback_reason=f"{model.name}: {reason}",
    )


def _render_failed(event: SceneRenderFailed, reason: str) -> PermanentError:
    return PermanentError(
        f"scene {event.scene_number} failed to render {event.attempt} times; {reason}; "
        f"last error: {event.error.message}",
        code="RENDER_FAILED",
        stage="rendering",
        suggestion="Simplify the topic or description, or try another model; "
        "the scene's code and traceback are in the job's logs.",
        details={"scene": event.scene_number, "kind": event.error.kind,
                 "traceback": event.error.traceback[-2000:]},
    )


def _reason(exc: CodeRejected | PermanentError) -> str:
    if isinstance(exc, CodeRejected):
        return f"code failed the checks: {exc}"
    return f"{exc.code}: {exc.message}"


async def _publish_code(
    deps: StageDeps, event: Source, plan: ScenePlan, code: str, *, attempt: int, model: str,
    fallback_reason: str | None = None, rewrites: list[ApiRewrite] | None = None,
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
    await store_rewrites(deps.artifacts, event.job_id, plan.number, attempt, rewrites or [])
    await deps.bus.publish(
        SceneCoded(
            job_id=event.job_id, user_id=event.user_id, context=event.context,
            scene_number=plan.number, scene_count=event.scene_count, attempt=attempt,
            class_name=plan.class_name, code_ref=ref, plan_ref=event.plan_ref, model=model,
            fallback_reason=fallback_reason, rewrites=rewrites or [],
        )
    )


async def _record_usage(
    deps: StageDeps, event: Source, meter: UsageMeter, *, stage: str, attempt: int
) -> None:
    usage = meter.snapshot()
    if usage:
        await deps.bus.publish(UsageRecorded(
            job_id=event.job_id, user_id=event.user_id, stage=stage, usage=usage,
            scene=event.scene_number, attempt=attempt,
        ))


async def _plan(deps: StageDeps, ref: str) -> ScenePlan:
    return msgspec.json.decode(await deps.artifacts.get_bytes(ref), type=ScenePlan)
