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
    layout_report,
    render_error_report,
    repair_checked,
    write_checked,
)
from services.coder.checks import code_problems, manim_names
from services.coder.critique import critique_rendered
from services.coder.models import SceneCoder, resolve_coder
from services.coder.narrated import load_narration, paced_builtin, pass_client_code, timed_for
from shared import artifacts
from shared.broker import CONSUMERS
from shared.errors import PermanentError
from shared.events import (
    ApiRewrite,
    JobContext,
    Narration,
    SceneCoded,
    SceneNarrated,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    UsageRecorded,
    abandoned,
)
from shared.llm.providers import LLMClients, UnknownModel
from shared.llm.usage import UsageMeter
from shared.logs import timed
from shared.plans import ScenePlan
from shared.retry import backoff_delay
from shared.scene_timing import HELPER_NAMES
from shared.service import StageDeps

if TYPE_CHECKING:
    from services.coder.retrieval.index import DocsIndex

log = logging.getLogger("videogen.coder")
Source = ScenePlanned | SceneNarrated | SceneRenderFailed


@dataclass(frozen=True)
class Coder:
    """What the coder's handlers share in one process."""

    deps: StageDeps
    clients: LLMClients
    docs: DocsIndex | None

    def model(self, context: JobContext, meter: UsageMeter) -> SceneCoder:
        docs = self.docs if context.use_rag else None
        try:
            return resolve_coder(context.scene_model, clients=self.clients, docs=docs, meter=meter)
        except UnknownModel as exc:
            raise PermanentError(
                str(exc),
                code="MODEL_UNAVAILABLE",
                suggestion="Check SCENE_MODEL or the job's model.",
            ) from exc

    def check(self, plan: ScenePlan) -> functools.partial[list[str]]:
        return functools.partial(
            _problems, class_name=plan.class_name, known_names=manim_names() | HELPER_NAMES
        )

    def may_fall_back(self, model: SceneCoder) -> bool:
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

        embedder = (
            clients.embeddings(settings.embeddings_model) if settings.embeddings_model else None
        )
        with timed(log, "docs index", qdrant_url=settings.qdrant_url or "in-process"):
            docs = await open_index(
                settings.data_dir / "rag", qdrant_url=settings.qdrant_url, embedder=embedder
            )
    await asyncio.to_thread(manim_names)  # import Manim now, not inside the first job
    coder = Coder(deps, clients, docs)

    async def on_scene_planned(event: ScenePlanned) -> None:
        if not event.context.narrate:  # narrated jobs come back as scene.narrated
            await write_scene(coder, event)

    async def on_scene_narrated(event: SceneNarrated) -> None:
        if event.client_code_ref is not None:
            await pass_client_code(deps, event)
        else:
            await write_scene(coder, event)

    async def on_render_failed(event: SceneRenderFailed) -> None:
        if event.error.kind == "layout":
            await repair_layout(coder, event)
        else:
            await repair_scene(coder, event)

    concurrency = settings.max_scene_concurrency
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder"],
        ScenePlanned,
        on_scene_planned,
        stage="code_generation",
        concurrency=concurrency,
    )
    # High and urgent jobs' scenes: a slot of their own, never behind the normal backlog.
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder-priority"],
        ScenePlanned,
        on_scene_planned,
        stage="code_generation",
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder-narrated"],
        SceneNarrated,
        on_scene_narrated,
        stage="code_generation",
        concurrency=concurrency,
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder-narrated-priority"],
        SceneNarrated,
        on_scene_narrated,
        stage="code_generation",
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder-repair"],
        SceneRenderFailed,
        on_render_failed,
        stage="rendering",
        concurrency=concurrency,
    )

    async def on_scene_rendered(event: SceneRendered) -> None:
        await critique_rendered(deps, clients, event)  # returns at once when VISION_MODEL is off

    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["coder-critique"],
        SceneRendered,
        on_scene_rendered,
        stage="rendering",
        concurrency=concurrency,
    )


async def write_scene(coder: Coder, event: ScenePlanned | SceneNarrated) -> None:
    deps = coder.deps
    await deps.bus.progress(event, "code_generation", scene=event.scene_number)
    meter = UsageMeter()
    model = coder.model(event.context, meter)
    narration = event.narration if isinstance(event, SceneNarrated) else None
    plan = await _plan(deps, event.plan_ref)
    fixes = ApiFixes()
    first = event.context.first_attempt  # 1, or past every attempt of earlier revisions
    try:
        with timed(log, "code_generation", scene=event.scene_number, model=model.name):
            code = await write_checked(
                model,
                timed_for(plan, narration, model.name),
                check=coder.check(plan),
                rounds=deps.settings.max_fix_attempts,
                fix=fixes,
            )
    except (CodeRejected, PermanentError) as exc:
        await _give_up(
            coder, event, plan, model, attempt=first, reason=_reason(exc), narration=narration
        )
        return
    finally:
        await _record_usage(deps, event, meter, stage="code_generation", attempt=first)
    await _publish_code(
        deps,
        event,
        plan,
        code,
        attempt=first,
        model=model.name,
        narration=narration,
        rewrites=fixes.rewrites,
    )


async def repair_scene(coder: Coder, event: SceneRenderFailed) -> None:
    deps = coder.deps
    meter = UsageMeter()
    model = coder.model(event.context, meter)
    narration = await load_narration(deps, event)
    plan = await _plan(deps, event.plan_ref)
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    attempt = event.attempt + 1
    failure = f"attempt {event.attempt} failed to render: {event.error.message}"
    if not event.error.recoverable:
        await _abandon(coder, event, plan, "no change of the code can help")
        return
    if model.name != "builtin" and code == paced_builtin(
        await fallback_code(plan), narration, plan
    ):
        await _abandon(coder, event, plan, "even the built-in model's version failed to render")
        return
    tried = event.attempt - event.context.first_attempt + 1  # attempts of this revision
    if tried > deps.settings.max_fix_attempts:
        await _give_up(
            coder, event, plan, model, attempt=attempt, reason=failure, narration=narration
        )
        return
    await asyncio.sleep(backoff_delay(tried, base=deps.settings.fix_backoff_seconds))
    rewritten = await stored_report(deps.artifacts, event.job_id, plan.number, event.attempt)
    error = "\n\n".join(filter(None, [render_error_report(event.error, code), rewritten]))
    fixes = ApiFixes()
    try:
        with timed(log, "code repair", scene=event.scene_number, attempt=event.attempt):
            fixed = await repair_checked(
                model,
                timed_for(plan, narration, model.name),
                code=code,
                error=error,
                check=coder.check(plan),
                rounds=deps.settings.max_fix_attempts,
                fix=fixes,
            )
    except (CodeRejected, PermanentError) as exc:
        await _give_up(
            coder, event, plan, model, attempt=attempt, reason=_reason(exc), narration=narration
        )
        return
    finally:
        await _record_usage(deps, event, meter, stage="repair", attempt=attempt)
    await _publish_code(
        deps,
        event,
        plan,
        fixed,
        attempt=attempt,
        model=model.name,
        narration=narration,
        rewrites=fixes.rewrites,
    )


async def repair_layout(coder: Coder, event: SceneRenderFailed) -> None:
    """The one repair round the renderer's layout check asked for (LAYOUT_CHECK=repair).

    The scene rendered, so nothing here gives up or falls back: when the model cannot
    write a fix, the same code goes back, and the renderer keeps the clip it has (the
    renderer decides which clip stays; see services/renderer/layout_round.py).
    """
    deps = coder.deps
    meter = UsageMeter()
    model = coder.model(event.context, meter)
    narration = await load_narration(deps, event)
    plan = await _plan(deps, event.plan_ref)
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    attempt = event.attempt + 1
    fixes = ApiFixes()
    try:
        with timed(log, "layout repair", scene=event.scene_number, attempt=event.attempt):
            fixed = await repair_checked(
                model,
                timed_for(plan, narration, model.name),
                code=code,
                error=layout_report(event.error, code),
                check=coder.check(plan),
                rounds=deps.settings.max_fix_attempts,
                fix=fixes,
            )
    except (CodeRejected, PermanentError) as exc:
        log.warning("scene %d: no layout repair (%s); the clip stays", plan.number, _reason(exc))
        fixed = code
    finally:
        await _record_usage(deps, event, meter, stage="repair", attempt=attempt)
    await _publish_code(
        deps,
        event,
        plan,
        fixed,
        attempt=attempt,
        model=model.name,
        narration=narration,
        rewrites=fixes.rewrites,
        layout_retry_of=event.attempt,
    )


async def _give_up(
    coder: Coder,
    event: Source,
    plan: ScenePlan,
    model: SceneCoder,
    *,
    attempt: int,
    reason: str,
    narration: Narration | None,
) -> None:
    """Fall back to the built-in model's scene, or abandon it when that is not allowed."""
    if not coder.may_fall_back(model):
        await _abandon(coder, event, plan, reason, model=model.name)
        return
    log.warning("scene %d falls back to the built-in model: %s", plan.number, reason)
    await _publish_code(
        coder.deps,
        event,
        plan,
        await fallback_code(plan),
        attempt=attempt,
        model="builtin",
        fallback_reason=f"{model.name}: {reason}",
        narration=narration,
    )


async def _abandon(
    coder: Coder, event: Source, plan: ScenePlan, reason: str, *, model: str = ""
) -> None:
    """Give up on the scene: announce it (PARTIAL_ASSEMBLY leaves it out), else fail the job.

    This is the one place that decides no further attempt will come; the renderer learns
    it from `scene.abandoned`.
    """
    if not coder.deps.settings.partial_assembly:
        if isinstance(event, SceneRenderFailed):
            raise _render_failed(event, reason)
        raise PermanentError(
            f"scene {plan.number}: {model} wrote no usable code: {reason}",
            code="CODE_GENERATION_FAILED",
            suggestion="Try again, choose another model, or set SCENE_FALLBACK=builtin.",
        )
    failed = event if isinstance(event, SceneRenderFailed) else None
    log.warning("scene %d is abandoned: %s", plan.number, reason)
    await coder.deps.bus.publish(
        abandoned(
            event,
            attempt=failed.attempt if failed else event.context.first_attempt,
            reason=reason,
            error=failed.error if failed else None,
        )
    )


def _render_failed(event: SceneRenderFailed, reason: str) -> PermanentError:
    return PermanentError(
        f"scene {event.scene_number} failed to render {event.attempt} times; {reason}; "
        f"last error: {event.error.message}",
        code="RENDER_FAILED",
        stage="rendering",
        suggestion="Simplify the topic or description, or try another model; "
        "the scene's code and traceback are in the job's logs.",
        details={
            "scene": event.scene_number,
            "kind": event.error.kind,
            "traceback": event.error.traceback[-2000:],
        },
    )


def _reason(exc: CodeRejected | PermanentError) -> str:
    if isinstance(exc, CodeRejected):
        return f"code failed the checks: {exc}"
    return f"{exc.code}: {exc.message}"


async def _publish_code(
    deps: StageDeps,
    event: Source,
    plan: ScenePlan,
    code: str,
    *,
    attempt: int,
    model: str,
    fallback_reason: str | None = None,
    narration: Narration | None = None,
    rewrites: list[ApiRewrite] | None = None,
    layout_retry_of: int | None = None,
) -> None:
    if model == "builtin":
        code = paced_builtin(code, narration, plan)  # its steps land on the beats
    ref = await deps.artifacts.put_bytes(
        artifacts.code_name(event.job_id, plan.number, attempt), code.encode()
    )
    await store_rewrites(deps.artifacts, event.job_id, plan.number, attempt, rewrites or [])
    await deps.bus.publish(
        SceneCoded(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=plan.number,
            scene_count=event.scene_count,
            attempt=attempt,
            class_name=plan.class_name,
            code_ref=ref,
            plan_ref=event.plan_ref,
            model=model,
            fallback_reason=fallback_reason,
            narration=narration,
            rewrites=rewrites or [],
            layout_retry_of=layout_retry_of,
        )
    )


async def _record_usage(
    deps: StageDeps, event: Source, meter: UsageMeter, *, stage: str, attempt: int
) -> None:
    usage = meter.snapshot()
    if usage:
        await deps.bus.publish(
            UsageRecorded(
                job_id=event.job_id,
                user_id=event.user_id,
                stage=stage,
                usage=usage,
                scene=event.scene_number,
                attempt=attempt,
            )
        )


async def _plan(deps: StageDeps, ref: str) -> ScenePlan:
    return msgspec.json.decode(await deps.artifacts.get_bytes(ref), type=ScenePlan)
