"""Renderer: scene.coded → scene.rendered | scene.render_failed; all rendered → video.combined."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from faststream.nats.annotations import NatsMessage

from services.renderer.combine import combine_clips
from services.renderer.ledger import is_rendered, record_rendered
from services.renderer.render import RenderFailure, render_scene
from services.renderer.running import RunningRenders
from services.renderer.sandbox import render_environment
from shared import artifacts, subjects
from shared.broker import CONSUMERS
from shared.errors import JobGone
from shared.events import (
    JobCancelled,
    RenderError,
    SceneCoded,
    SceneRendered,
    SceneRenderFailed,
    VideoCombined,
)
from shared.logs import job_scope, timed
from shared.metrics import observed_render
from shared.runtime import decode_or_reject
from shared.service import StageDeps

log = logging.getLogger("videogen.renderer")


async def register(deps: StageDeps) -> None:
    ledger = await deps.js.key_value(subjects.LEDGER_BUCKET)
    running = RunningRenders()

    async def on_scene_coded(event: SceneCoded) -> None:
        if await is_rendered(ledger, event.job_id, event.scene_number):
            log.info("scene %d already rendered; skipping", event.scene_number)
            return
        await render_one(deps, event, running)

    async def on_scene_rendered(event: SceneRendered) -> None:
        complete = await record_rendered(
            ledger, event.job_id, scene=event.scene_number, scene_count=event.scene_count
        )
        if complete:
            await combine_job(deps, event)

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
        concurrency=deps.settings.max_concurrent_renders,
    )
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["renderer-combine"],
        SceneRendered,
        on_scene_rendered,
        stage="combining",
    )
    # Every replica must hear a cancellation, so this is a plain (non-durable) subscription.
    deps.broker.subscriber(subjects.events_of_type(JobCancelled.type))(on_cancelled)


async def render_one(deps: StageDeps, event: SceneCoded, running: RunningRenders) -> None:
    await deps.bus.progress(event, "rendering", scene=event.scene_number)
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    with tempfile.TemporaryDirectory(prefix="videogen-render-") as folder:
        workdir = Path(folder)
        try:
            with (
                observed_render(
                    quality=event.context.quality, scene=event.scene_number,
                    attempt=event.attempt, job_id=event.job_id,
                ),
                running.tracking(event.job_id) as on_start,
                timed(
                    log,
                    "render",
                    scene=event.scene_number,
                    attempt=event.attempt,
                    quality=event.context.quality,
                ) as outcome,
            ):
                clip = await render_scene(
                    code,
                    class_name=event.class_name,
                    quality=event.context.quality,
                    workdir=workdir,
                    timeout_seconds=deps.settings.render_timeout_seconds,
                    env=render_environment(workdir),
                    on_start=on_start,
                )
                outcome["video_seconds"] = round(clip.duration_seconds, 2)
        except RenderFailure as failure:
            if failure.kind == "cancelled":
                raise JobGone(event.job_id) from failure
            await _report_failure(deps, event, failure)
            return
        ref = await deps.artifacts.put_file(
            artifacts.clip_name(event.job_id, event.scene_number), clip.path
        )
    await deps.bus.publish(
        SceneRendered(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=event.scene_number,
            scene_count=event.scene_count,
            attempt=event.attempt,
            clip_ref=ref,
            duration_seconds=clip.duration_seconds,
            render_seconds=clip.seconds_rendering,
        )
    )


async def _report_failure(deps: StageDeps, event: SceneCoded, failure: RenderFailure) -> None:
    log.warning(
        "scene %d attempt %d failed to render: %s",
        event.scene_number,
        event.attempt,
        failure.message,
        extra={"kind": failure.kind, "traceback": failure.traceback[-4000:]},
    )
    await deps.bus.publish(
        SceneRenderFailed(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=event.scene_number,
            scene_count=event.scene_count,
            attempt=event.attempt,
            class_name=event.class_name,
            code_ref=event.code_ref,
            plan_ref=event.plan_ref,
            error=RenderError(
                kind=failure.kind,
                message=failure.message,
                traceback=failure.traceback,
                error_type=failure.error_type,
                line=failure.line,
            ),
        )
    )


async def combine_job(deps: StageDeps, event: SceneRendered) -> None:
    await deps.bus.progress(event, "combining")
    with tempfile.TemporaryDirectory(prefix="videogen-combine-") as folder:
        workdir = Path(folder)
        clips = [
            await deps.artifacts.get_file(
                artifacts.clip_name(event.job_id, number), workdir / f"scene-{number:02d}.mp4"
            )
            for number in range(1, event.scene_count + 1)
        ]
        with timed(log, "combining", scenes=len(clips)) as outcome:
            video = await asyncio.to_thread(combine_clips, clips, workdir / "combined.mp4")
            outcome.update(
                video_seconds=round(video.duration_seconds, 2), reencoded=video.reencoded
            )
        ref = await deps.artifacts.put_file(artifacts.video_name(event.job_id), video.path)
    await deps.bus.publish(
        VideoCombined(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            video_ref=ref,
            duration_seconds=video.duration_seconds,
            scene_offsets=list(video.scene_offsets),
        )
    )
