"""Visual critique (VISION_MODEL): key frames of a rendered scene judged against its storyboard.

Optional and off by default. A few frames (see keyframes.py) go to any OpenAI-compatible
vision endpoint as JPEG data URLs beside the storyboard, through the same chat client as
every other call (retries, error translation, usage and cost on the caller's meter). The
model answers JSON; each problem becomes a `SceneFinding` (kind, objects, message, frame
time), the structured form layout findings take too, so a repair request can carry either.

In the pipeline, `critique_rendered` runs on each `scene.rendered` of a planned scene and
announces `scene.critiqued` (listed in /scenes). It only reports: a critique never fails
or holds up a job, and its usage is recorded as stage "critique".
"""

from __future__ import annotations

import asyncio
import base64
import logging
import tempfile
from pathlib import Path
from typing import Any, cast

import av
import msgspec

from services.coder.keyframes import KeyFrame, key_frames
from services.coder.plan_prompt import storyboard_section
from shared import artifacts
from shared.errors import StageError
from shared.events import (
    SceneCoded,
    SceneCritiqued,
    SceneFinding,
    SceneRendered,
    UsageRecorded,
)
from shared.llm.client import ChatClient, Message
from shared.llm.providers import LLMClients, UnknownModel
from shared.llm.structured import ask_structured
from shared.llm.usage import UsageMeter
from shared.plans import ScenePlan
from shared.service import StageDeps
from shared.settings import Settings

log = logging.getLogger("videogen.coder")

KINDS = ("off_frame", "overlap", "too_small", "unreadable", "mismatch", "empty", "other")

INSTRUCTIONS = """Task: visual critique

You review frames of a rendered Manim animation for an explanatory math video.
The scene should show (storyboard):
{storyboard}

The frames follow, in order, each after a line giving its number and time.
Report only real visual problems a viewer would notice: objects cut off at the frame
edge (off_frame), text or formulas overlapping each other (overlap), text too small to
read (too_small), illegible or garbled text (unreadable), content that contradicts the
storyboard (mismatch), a blank or nearly empty frame where content is expected (empty),
anything else (other).
Answer with JSON only, in this shape (an empty list when everything looks right):
{{"findings": [{{"kind": "overlap", "objects": ["title", "equation"],
"message": "the title overlaps the equation", "frame": 2}}]}}
"kind" is one of: {kinds}. "frame" is the frame number (1 = first)."""


class _Reported(msgspec.Struct):
    kind: str
    message: str
    objects: list[str] = []
    frame: int | None = None


class _Answer(msgspec.Struct):
    findings: list[_Reported]


def vision_chat(settings: Settings, clients: LLMClients, meter: UsageMeter) -> ChatClient | None:
    """The vision model's client, or None when VISION_MODEL is off."""
    if not settings.vision_model:
        return None
    return clients.chat(settings.vision_model, meter=meter)


async def critique_scene(
    clip: Path,
    storyboard: str,
    *,
    chat: ChatClient,
    frames: int = 3,
    max_width: int = 768,
    max_reasks: int = 1,
) -> list[SceneFinding]:
    """What the vision model finds wrong in `clip` given the scene's `storyboard`."""
    shots = await asyncio.to_thread(key_frames, clip, count=frames, max_width=max_width)
    answer = await ask_structured(
        chat, _messages(storyboard, shots), _Answer, max_reasks=max_reasks
    )
    return [_finding(reported, shots) for reported in answer.findings]


def _messages(storyboard: str, shots: list[KeyFrame]) -> list[Message]:
    text = INSTRUCTIONS.format(storyboard=storyboard.strip(), kinds=", ".join(KINDS))
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for number, shot in enumerate(shots, start=1):
        parts.append({"type": "text", "text": f"Frame {number} at {shot.time_seconds:.2f} s:"})
        data = base64.b64encode(shot.jpeg).decode()
        parts.append({"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}"}})
    # Chat messages are text elsewhere; the SDK passes content parts through as they are.
    return [cast(Message, {"role": "user", "content": parts})]


def _finding(reported: _Reported, shots: list[KeyFrame]) -> SceneFinding:
    frame = reported.frame
    time = shots[frame - 1].time_seconds if frame is not None and 1 <= frame <= len(shots) else None
    kind = reported.kind.strip().lower().replace("-", "_").replace(" ", "_")
    return SceneFinding(
        kind=kind if kind in KINDS else "other",
        objects=reported.objects,
        message=reported.message,
        time_seconds=time,
    )


async def _plan_of_clip(deps: StageDeps, event: SceneRendered) -> str:
    """The plan the clip was made from (a revision may have planned the scene again), as
    the renderer recorded it beside the clip; else the scene's original plan."""
    try:
        record = await deps.artifacts.get_bytes(
            artifacts.rendered_name(event.job_id, event.scene_number)
        )
    except artifacts.ArtifactMissing:
        return artifacts.plan_name(event.job_id, event.scene_number)
    return msgspec.json.decode(record, type=SceneCoded).plan_ref


async def critique_rendered(deps: StageDeps, clients: LLMClients, event: SceneRendered) -> None:
    """Critique one rendered attempt of a planned scene and announce the findings."""
    settings = deps.settings
    if not settings.vision_model or event.carried_from is not None:
        return  # a revision's unchanged scene: its clip was judged when it was made
    meter = UsageMeter()
    try:
        chat = clients.chat(settings.vision_model, meter=meter)
        plan_ref = await _plan_of_clip(deps, event)
        if not plan_ref:
            return  # a client's own scene (render-only job): no plan to judge it by
        plan = msgspec.json.decode(await deps.artifacts.get_bytes(plan_ref), type=ScenePlan)
        with tempfile.TemporaryDirectory(prefix="videogen-critique-") as folder:
            clip = await deps.artifacts.get_file(event.clip_ref, Path(folder) / "clip.mp4")
            findings = await critique_scene(
                clip,
                storyboard_section(plan),  # with the layout: where each object belongs
                chat=chat,
                frames=settings.vision_frames,
                max_width=settings.vision_frame_width,
                max_reasks=settings.llm_max_reasks,
            )
    except artifacts.ArtifactMissing:
        return  # a render-only job has no plan to judge against; or artifacts expired
    except (StageError, UnknownModel, av.FFmpegError, OSError, ValueError) as exc:
        log.warning("visual critique of scene %d skipped: %s", event.scene_number, exc)
        return
    finally:
        if usage := meter.snapshot():
            await deps.bus.publish(
                UsageRecorded(
                    job_id=event.job_id,
                    user_id=event.user_id,
                    stage="critique",
                    usage=usage,
                    scene=event.scene_number,
                    attempt=event.attempt,
                )
            )
    await deps.bus.publish(
        SceneCritiqued(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=event.scene_number,
            attempt=event.attempt,
            model=settings.vision_model,
            findings=findings,
        )
    )
