"""Renderer: scene.coded → scene.rendered | scene.render_failed; all settled → video.combined.

A scene is settled when it is rendered or abandoned; the coder announces the scenes it
gives up on (scene.abandoned), so combining never has to guess whether another attempt
will come.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from faststream.nats.annotations import NatsMessage

from services.renderer import slices
from services.renderer.assembly import combine_job
from services.renderer.cache import ClipStore, RenderCache
from services.renderer.clipstore import ObjectStoreClips
from services.renderer.engine import RenderEngine
from services.renderer.errors import RenderFailure
from services.renderer.fairness import FairSlots
from services.renderer.jail import jail_for
from services.renderer.layout_round import (
    Outcome,
    failed_render,
    kept_instead,
    layout_action,
    scene_findings,
    settle,
)
from services.renderer.ledger import (
    SceneLedger,
    is_rendered,
    ledger_key,
    record_abandoned,
    record_rendered,
)
from services.renderer.narration import narrated_code, with_speech
from services.renderer.render import CliLauncher, RenderedClip, RenderProcess, check_code
from services.renderer.revision import unchanged_scenes
from services.renderer.running import RunningRenders
from services.renderer.sandbox import RenderLimits
from services.renderer.slicing import SliceDecision
from services.renderer.warm import PoolUnavailable, WarmPool
from shared import artifacts, subjects
from shared.broker import CONSUMERS
from shared.code_policy import SCENE_IMPORTS
from shared.diskspace import start_disk_guard
from shared.errors import JobGone, PermanentError
from shared.events import (
    JobCancelled,
    RevisionPlanned,
    SceneAbandoned,
    SceneCoded,
    SceneRendered,
    SceneRenderFailed,
    SliceRequested,
    abandoned,
    encode,
)
from shared.logs import job_scope, timed
from shared.metrics import observed_render
from shared.runtime import decode_or_reject
from shared.service import StageDeps
from shared.settings import Settings

log = logging.getLogger("videogen.renderer")
_SUGGESTIONS = {
    "policy": "Remove what the message names: scene code may only import "
    f"{', '.join(SCENE_IMPORTS)}.",
    "timeout": "Shorten the scene or simplify it (3D scenes render slowly), or raise "
    "RENDER_TIMEOUT_SECONDS.",
    "resource": "The scene hit a memory, CPU-time or file-size limit; make it smaller.",
}


def build_engine(settings: Settings, *, clips: ClipStore | None) -> RenderEngine:
    """The render engine this replica's settings describe (``clips``: the cache's store).

    Raises JailUnavailable (the service refuses to start) when renders cannot be jailed.
    """
    jail = jail_for(settings.render_sandbox)
    cache = None
    if settings.render_cache_mb and clips is not None:
        cache = RenderCache(clips, max_bytes=settings.render_cache_mb * 2**20)
    return RenderEngine(
        timeout_seconds=settings.render_timeout_seconds,
        renderer=settings.renderer_mode,
        limits=RenderLimits(
            memory_mb=settings.render_memory_mb,
            cpu_seconds=settings.render_cpu_seconds,
            max_file_mb=settings.render_max_file_mb,
            max_processes=settings.render_max_processes,
        ),
        pool=WarmPool(jail=jail) if settings.render_warm_pool else None,
        cache=cache,
        cli=CliLauncher(jail=jail),
    )


async def register(deps: StageDeps) -> None:
    settings = deps.settings
    ledger = await deps.js.key_value(subjects.LEDGER_BUCKET)
    running = RunningRenders()
    slots = FairSlots(settings.max_concurrent_renders, settings.max_renders_per_user)
    engine = build_engine(settings, clips=ObjectStoreClips(deps.artifacts.store))
    disk = start_disk_guard(deps, [Path(tempfile.gettempdir())])  # where renders write
    if engine.pool is not None:
        try:
            await engine.pool.start()  # import Manim now, not inside the first job
        except PoolUnavailable as exc:
            log.warning("warm pool unavailable, rendering with the manim CLI: %s", exc)

    async def on_scene_coded(event: SceneCoded) -> None:
        key = ledger_key(event.job_id, event.context.revision)
        if await is_rendered(ledger, key, event.scene_number, attempt=event.attempt):
            log.info(
                "scene %d attempt %d already rendered; skipping", event.scene_number, event.attempt
            )
            return
        await disk.check()
        failure = await render_one(deps, engine, event, running, slots)
        if failure is not None:
            kept = await kept_instead(deps, event)  # a layout repair that broke the scene
            if kept is not None:
                await deps.bus.publish(kept)
            else:
                await handle_failure(deps, event, failure)

    async def on_slice_requested(event: SliceRequested) -> None:
        await disk.check()
        async with slots.slot(event.user_id):
            await _still_wanted(deps, event)
            with (
                engine.workdir() as folder,
                observed_render(
                    quality=event.context.quality,
                    scene=event.scene_number,
                    slice=event.slice_number,
                    job_id=event.job_id,
                ),
                running.tracking(event.job_id) as on_start,
                timed(log, "render slice", scene=event.scene_number, slice=event.slice_number),
            ):
                await slices.render_slice(deps, engine, event, Path(folder), on_start)
        await deps.bus.progress(
            event,
            "rendering",
            scene=event.scene_number,
            detail=f"slice {event.slice_number + 1} of {event.slice_count} rendered",
        )

    async def on_scene_rendered(event: SceneRendered) -> None:
        settled = await record_rendered(
            ledger,
            ledger_key(event.job_id, event.context.revision),
            scene=event.scene_number,
            scene_count=event.scene_count,
            attempt=event.attempt,
        )
        await _combine_if_settled(deps, event, settled)

    async def on_scene_abandoned(event: SceneAbandoned) -> None:
        await deps.bus.progress(
            event,
            "rendering",
            scene=event.scene_number,
            detail=f"scene {event.scene_number} left out: {event.reason}",
        )
        settled = await record_abandoned(
            ledger,
            ledger_key(event.job_id, event.context.revision),
            scene=event.scene_number,
            scene_count=event.scene_count,
        )
        await _combine_if_settled(deps, event, settled)

    async def on_revision_planned(event: RevisionPlanned) -> None:
        for coded in await unchanged_scenes(deps, event):
            await on_scene_coded(coded)  # the same code: a render-cache hit

    async def on_cancelled(message: NatsMessage) -> None:
        event = decode_or_reject(message.body, JobCancelled)
        if event is not None:
            with job_scope(job_id=event.job_id, stage="rendering"):
                killed = running.cancel(event.job_id)
                log.info("job cancelled: killed %d running render(s)", killed)

    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["renderer"],
        SceneCoded,
        on_scene_coded,
        stage="rendering",
        # Events beyond the slots wait in `slots` for their user's turn (fairness.py).
        concurrency=settings.max_concurrent_renders + settings.render_lookahead,
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["renderer-slices"],
        SliceRequested,
        on_slice_requested,
        stage="rendering",
        # No lookahead: a slice this replica cannot start now belongs to another replica.
        concurrency=settings.max_concurrent_renders,
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["renderer-combine"],
        SceneRendered,
        on_scene_rendered,
        stage="combining",
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["renderer-abandoned"],
        SceneAbandoned,
        on_scene_abandoned,
        stage="combining",
    )
    for consumer in ("renderer-revision", "renderer-revision-priority"):
        deps.runner.subscribe(
            deps.broker,
            CONSUMERS[consumer],
            RevisionPlanned,
            on_revision_planned,
            stage="rendering",
        )
    # Every replica must hear a cancellation, so this is a plain (non-durable) subscription.
    # No reply: the message's reply subject is the publisher's JetStream ack inbox, and an
    # answer from here would race the stream's ack (the renderer's NATS user may not anyway).
    deps.broker.subscriber(subjects.events_of_type(JobCancelled.type), no_reply=True)(on_cancelled)


async def _still_wanted(deps: StageDeps, event: SceneCoded | SliceRequested) -> None:
    """Raise JobGone when the job was cancelled, failed or deleted while the render waited."""
    view = await deps.jobs.get(event.user_id, event.job_id)
    if view is None or view.is_terminal:
        raise JobGone(event.job_id)


async def render_one(
    deps: StageDeps,
    engine: RenderEngine,
    event: SceneCoded,
    running: RunningRenders,
    slots: FairSlots,
) -> RenderFailure | None:
    """Render the scene (whole, or in slices) and publish scene.rendered (or send it back
    for a layout repair); else the failure."""
    own_code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    code = narrated_code(own_code, event)
    quality = event.context.quality
    action = layout_action(deps.settings.layout_check, event)
    with engine.workdir() as folder:
        try:
            with (
                observed_render(
                    quality=quality,
                    scene=event.scene_number,
                    attempt=event.attempt,
                    job_id=event.job_id,
                ),
                running.tracking(event.job_id) as on_start,
                timed(
                    log,
                    "render",
                    scene=event.scene_number,
                    attempt=event.attempt,
                    quality=quality,
                    renderer=engine.renderer,
                ) as outcome,
            ):
                clip, decision = await _clip(
                    deps, engine, event, code, Path(folder), on_start, slots, layout=action != "off"
                )
                outcome.update(
                    video_seconds=round(clip.duration_seconds, 2),
                    cached=clip.cached,
                    renderer=clip.renderer,  # the mode (auto) resolved for this scene
                    slices=len(decision.ranges) if decision.sliced else 1,
                )
        except RenderFailure as failure:
            if failure.kind == "cancelled":
                raise JobGone(event.job_id) from failure
            return failure
        scene_clip = await with_speech(deps, event, clip.path, clip.duration_seconds, Path(folder))
        ref = await deps.artifacts.put_file(
            artifacts.clip_name(event.job_id, event.scene_number), scene_clip.path
        )
        await deps.artifacts.put_bytes(
            artifacts.rendered_name(event.job_id, event.scene_number), encode(event)
        )
        result = Outcome(
            clip=scene_clip.path,
            clip_ref=ref,
            duration_seconds=scene_clip.duration_seconds,
            render_seconds=clip.seconds_rendering,
            renderer=clip.renderer,
            renderer_reason=clip.renderer_reason,
            warnings=scene_clip.warnings,
            cached=clip.cached,
            findings=scene_findings(clip.layout, own_code, event),
            slices=len(decision.ranges) if decision.sliced else 1,
            slicing=decision.reason,
        )
        announcement = await settle(deps, event, result, action=action, code=own_code)
    for warning in scene_clip.warnings:
        log.warning("scene %d: %s", event.scene_number, warning)
    if result.findings:
        log.info(
            "scene %d attempt %d: %d layout finding(s)",
            event.scene_number,
            event.attempt,
            len(result.findings),
            extra={"kinds": sorted({f.kind for f in result.findings}), "layout": action},
        )
    await deps.bus.publish(announcement)
    return None


async def _clip(
    deps: StageDeps,
    engine: RenderEngine,
    event: SceneCoded,
    code: str,
    folder: Path,
    on_start: Callable[[RenderProcess], None],
    slots: FairSlots,
    *,
    layout: bool,
) -> tuple[RenderedClip, SliceDecision]:
    """The scene's clip: cached, rendered whole in a slot, or joined from slices (whose
    owner waits without a slot, so the slices can have them)."""
    quality, use_cache = event.context.quality, not event.replayed
    render = functools.partial(
        engine.render,
        code,
        class_name=event.class_name,
        quality=quality,
        workdir=folder,
        on_start=on_start,
        strict=False,  # linted first, below
        layout=layout,
    )
    async with slots.slot(event.user_id):
        await _still_wanted(deps, event)  # it may have waited a while for its turn
        await deps.bus.progress(event, "rendering", scene=event.scene_number)
        check_code(code, policy=event.repairable)  # LLM code is linted; a client's own is not
        hit = None
        if use_cache:
            hit = await engine.cached(
                code, class_name=event.class_name, quality=quality, workdir=folder, layout=layout
            )
        if hit is not None:
            return hit, SliceDecision((), "cached")
        plan = await slices.plan(deps, engine, event, code, folder, on_start)
        if not plan.decision.sliced:
            return await render(use_cache=False, tex_cache=plan.tex), plan.decision
    joined = await slices.render_in_slices(deps, engine, event, code, plan, folder, layout=layout)
    if isinstance(joined, RenderedClip):
        return joined, plan.decision
    log.warning("scene %d rendered whole: %s", event.scene_number, joined)
    async with slots.slot(event.user_id):
        clip = await render(use_cache=False, tex_cache=plan.tex)
        return clip, SliceDecision((), f"rendered whole: {joined}")


async def handle_failure(deps: StageDeps, event: SceneCoded, failure: RenderFailure) -> None:
    """Announce a failed render to the coder, who decides what comes next; a client's own
    scene has no coder behind it, so it is failed or (PARTIAL_ASSEMBLY) abandoned here."""
    log.warning(
        "scene %d attempt %d failed to render: %s",
        event.scene_number,
        event.attempt,
        failure.message,
        extra={"kind": failure.kind, "traceback": failure.traceback[-4000:]},
    )
    if event.repairable:
        await deps.bus.publish(_failed_event(event, failure))
    elif deps.settings.partial_assembly:
        await deps.bus.publish(
            abandoned(
                event,
                attempt=event.attempt,
                reason=failure.message,
                error=slices.render_error(failure),
            )
        )
    else:
        raise _render_failed(event, failure)


async def _combine_if_settled(
    deps: StageDeps, source: SceneRendered | SceneAbandoned, ledger: SceneLedger
) -> None:
    if not ledger.settled:
        return
    if not ledger.rendered:
        raise PermanentError(
            "no scene of the job rendered",
            code="RENDER_FAILED",
            stage="rendering",
            suggestion="Check each scene's error in the job's logs.",
        )
    await combine_job(
        deps, source, scenes=ledger.scenes, omitted=ledger.abandoned, revision=ledger.revision
    )


def _failed_event(event: SceneCoded, failure: RenderFailure) -> SceneRenderFailed:
    return failed_render(event, slices.render_error(failure))


def _render_failed(event: SceneCoded, failure: RenderFailure) -> PermanentError:
    """A client's own scene failed: nobody can repair it, so the job fails with the reason."""
    return PermanentError(
        f"scene {event.scene_number} ({event.class_name}) failed to render: {failure.message}",
        code="RENDER_FAILED",
        stage="rendering",
        suggestion=_SUGGESTIONS.get(
            failure.kind, "Fix the scene code at the line shown and submit it again."
        ),
        details={
            "scene": event.scene_number,
            "class_name": event.class_name,
            "kind": failure.kind,
            "error_type": failure.error_type,
            "line": failure.line,
            "code_excerpt": failure.code_excerpt,
            "recoverable": failure.recoverable,
            "traceback": failure.traceback[-2000:],
        },
    )
