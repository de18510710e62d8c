"""Replaying a job's recorded stage input, so that stage runs again.

The event stream keeps every job's events (limits retention, `EVENT_RETENTION_DAYS`), so
`videogen replay <job> --from <type>` and `POST /api/v1/jobs/{id}/replay` (both through
`replay` here: one implementation) publish a recorded stage input again. A replay is a
new attempt, never a copy: the stages de-duplicate outputs by their logical id, so a copy
of a scene's `scene.coded` would be dropped or, worse, answered twice under one attempt.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec
from nats.js import JetStreamContext

from shared import subjects
from shared.broker import CONSUMERS
from shared.events import (
    Event,
    JobContext,
    SceneCoded,
    SceneRendered,
    SceneRenderFailed,
    encode,
    utc_now,
)
from shared.history import Recorded, read_job
from shared.jobview import JobStore, JobView, StageRecord
from shared.stages import BY_NAME, ORDER
from shared.timeline import scene_of

# The stage a replayed input puts the job back in (the stage of its consumer).
REPLAY_STAGE = {
    "job.requested": "initializing",
    "scene.planned": "code_generation",
    "scene.narrated": "code_generation",
    "scene.coded": "rendering",
    "scene.render_failed": "rendering",
    "scene.rendered": "combining",
    "video.combined": "storage",
}
REPLAYABLE = tuple(
    dict.fromkeys(
        spec.event_type
        for spec in CONSUMERS.values()
        if spec.event_type is not None and spec.event_type in REPLAY_STAGE
    )
)


class ReplayRefused(Exception):
    """Replaying would do nothing or harm the job; the message says why and what to do."""


def next_attempt(records: list[Recorded], scene: int) -> int:
    """One more than the highest attempt any recorded event shows for `scene`."""
    attempts = [
        record.event.attempt
        for record in records
        if isinstance(record.event, SceneCoded | SceneRendered | SceneRenderFailed)
        and record.event.scene_number == scene
    ]
    return max(attempts, default=0) + 1


def replay_of(
    records: list[Recorded], event_type: str, *, scene: int | None, revision: int = 1
) -> tuple[Event, str]:
    """The event to publish for a replay from `event_type`, and its message id.

    The most recent recorded event of that type (and scene) is the template. A
    `scene.coded` becomes the scene's next attempt (so its outputs are new too); a
    `scene.render_failed` carries the scene's latest attempt, so the coder's repair is
    the next one. Other inputs are published as recorded under a fresh message id. An
    input recorded in an earlier revision of the job (a scene the latest revision left
    unchanged) is replayed as work of the job's current `revision`, which stages would
    otherwise skip.
    """
    if event_type not in REPLAYABLE:
        raise ReplayRefused(
            f"{event_type} is no stage's input; replayable: {', '.join(REPLAYABLE)}"
        )
    matches = [
        record.event
        for record in records
        if record.event is not None
        and record.event.type == event_type
        and (scene is None or scene_of(record.event) == scene)
    ]
    if not matches:
        where = "" if scene is None else f" for scene {scene}"
        raise ReplayRefused(f"the job has no recorded {event_type}{where}")
    event: Event = msgspec.structs.replace(matches[-1], occurred_at=utc_now())
    context = getattr(event, "context", None)
    if isinstance(context, JobContext) and context.revision < revision:
        event = msgspec.structs.replace(
            event, context=msgspec.structs.replace(context, revision=revision)
        )
    if isinstance(event, SceneCoded):
        event = msgspec.structs.replace(
            event, attempt=next_attempt(records, event.scene_number), replayed=True
        )
        return event, event.dedup_key()
    if isinstance(event, SceneRenderFailed):
        latest = next_attempt(records, event.scene_number) - 1
        event = msgspec.structs.replace(event, attempt=latest)
    return event, f"{event.dedup_key()}:replay:{uuid.uuid4().hex[:12]}"


def reopened(view: JobView, stage: str, *, at: datetime) -> JobView:
    """The view of a finished job put back to `stage`, processing again (`--reopen`)."""
    if view.status == "cancelled":
        raise ReplayRefused("the job was cancelled by its owner; it stays cancelled")
    updated = copy.deepcopy(view)
    updated.status = "processing"
    updated.error = None
    updated.completed_at = None
    updated.current_stage = stage
    updated.percentage = BY_NAME[stage].percentage
    updated.stages = [
        record for record in updated.stages if ORDER.get(record.stage, 0) < ORDER[stage]
    ]
    updated.stages.append(
        StageRecord(
            stage=stage,
            percentage=BY_NAME[stage].percentage,
            description=BY_NAME[stage].description,
            started_at=at,
        )
    )
    return updated


@dataclass(frozen=True)
class Replayed:
    """What a replay published."""

    event: Event
    message_id: str
    sequence: int
    reopened: bool


async def replay(
    js: JetStreamContext, job_id: str, event_type: str, *, scene: int | None, reopen: bool
) -> Replayed:
    """Publish a recorded stage input again as a new attempt; see `replay_of` and the CLI help."""
    records = await read_job(js, job_id)
    event, message_id = replay_of(records, event_type, scene=scene)
    jobs = JobStore(await js.key_value(subjects.JOBS_BUCKET))
    view = await jobs.get(event.user_id, job_id)
    if view is not None and view.revision > 1:
        event, message_id = replay_of(records, event_type, scene=scene, revision=view.revision)
    if view is None:
        raise ReplayRefused("the job's view is gone (deleted or expired): stages would skip it")
    if view.status == "cancelled":
        raise ReplayRefused("the job was cancelled by its owner; it stays cancelled")
    if view.is_terminal and not reopen:
        raise ReplayRefused(
            f"the job is {view.status} and stages skip finished jobs; reopen it (--reopen, or "
            '"reopen": true) to put it back to processing'
        )
    if view.is_terminal:
        stage = REPLAY_STAGE[event_type]
        await jobs.update(
            event.user_id,
            job_id,
            lambda current: reopened(current, stage, at=utc_now()) if current.is_terminal else None,
        )
    ack = await js.publish(
        subjects.event_subject(job_id, event.type),
        encode(event),
        stream=subjects.STREAM,
        headers={"Nats-Msg-Id": message_id},
    )
    if ack.duplicate:
        raise ReplayRefused(f"attempt {message_id} was published already (de-duplicated)")
    return Replayed(event, message_id, ack.seq, reopened=view.is_terminal)
