"""Combine a job's rendered scenes into one video, with subtitles, and announce it.

Runs once per job, when the ledger says every scene is settled. Under PARTIAL_ASSEMBLY the
scenes that failed for good are left out; the event says which.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgspec

from services.renderer.combine_sound import combine_scenes
from services.renderer.spoken_cues import spoken_cues
from services.renderer.subtitles import to_srt, to_vtt
from shared import artifacts
from shared.artifacts import ArtifactMissing, Artifacts
from shared.events import SceneAbandoned, SceneCoded, SceneRendered, VideoCombined
from shared.logs import timed
from shared.plans import ScenePlan
from shared.service import StageDeps

log = logging.getLogger("videogen.renderer")


async def combine_job(
    deps: StageDeps,
    source: SceneRendered | SceneAbandoned,
    *,
    scenes: Sequence[int],
    omitted: Sequence[int] = (),
    revision: str = "",
) -> None:
    """Join the clips of ``scenes`` (in order) and publish ``video.combined``.

    ``revision`` names the set of clips: a scene rendered again makes a new video.
    """
    job_id, context = source.job_id, source.context
    await deps.bus.progress(source, "combining", revision=revision)
    with tempfile.TemporaryDirectory(prefix="videogen-combine-") as folder:
        workdir = Path(folder)
        clips = [
            await deps.artifacts.get_file(
                artifacts.clip_name(job_id, number), workdir / f"scene-{number:02d}.mp4"
            )
            for number in scenes
        ]
        with timed(log, "combining", scenes=len(clips), omitted=len(omitted)) as outcome:
            video = await asyncio.to_thread(combine_scenes, clips, workdir / "combined.mp4")
            outcome.update(
                video_seconds=round(video.duration_seconds, 2), reencoded=video.reencoded
            )
        ref = await deps.artifacts.put_file(artifacts.video_name(job_id), video.path)
    srt_ref = vtt_ref = None
    if context.enable_subtitles:
        made_of = [await _rendered(deps.artifacts, job_id, number) for number in scenes]
        narrations = [await _narration(deps.artifacts, coded) for coded in made_of]
        spoken = [coded.narration if coded else None for coded in made_of]
        cues = spoken_cues(spoken, narrations, video.scene_offsets, video.duration_seconds)
        if cues:
            srt_ref = await deps.artifacts.put_bytes(
                artifacts.subtitles_name(job_id, "srt"), to_srt(cues).encode()
            )
            vtt_ref = await deps.artifacts.put_bytes(
                artifacts.subtitles_name(job_id, "vtt"), to_vtt(cues).encode()
            )
    await deps.bus.publish(
        VideoCombined(
            job_id=job_id,
            user_id=source.user_id,
            context=context,
            video_ref=ref,
            duration_seconds=video.duration_seconds,
            scene_offsets=list(video.scene_offsets),
            subtitles_srt_ref=srt_ref,
            subtitles_vtt_ref=vtt_ref,
            omitted_scenes=list(omitted),
            revision=revision,
        )
    )


async def _rendered(store: Artifacts, job_id: str, scene: int) -> SceneCoded | None:
    """The `scene.coded` the scene's clip was rendered from (its plan and spoken beats)."""
    try:
        data = await store.get_bytes(artifacts.rendered_name(job_id, scene))
        return msgspec.json.decode(data, type=SceneCoded)
    except (ArtifactMissing, msgspec.DecodeError, msgspec.ValidationError):
        return None


async def _narration(store: Artifacts, coded: SceneCoded | None) -> str | None:
    """A scene's narration from its plan; None for scenes without one (render-only jobs)."""
    if coded is None or not coded.plan_ref:  # a render-only job's silent scene has no plan
        return None
    try:
        data = await store.get_bytes(coded.plan_ref)
        return msgspec.json.decode(data, type=ScenePlan).narration
    except (ArtifactMissing, msgspec.DecodeError, msgspec.ValidationError):
        return None
