"""A job's recorded history: read its events back in order, and replay one of them.

The event stream keeps every job's events (limits retention, `EVENT_RETENTION_DAYS`), so
`videogen events <job>` prints the timeline and `videogen replay <job> --from <type>`
publishes a recorded stage input again so that stage runs again. A replay is a new
attempt, never a copy: the stages de-duplicate outputs by their logical id, so a copy of
a scene's `scene.coded` would be dropped or, worse, answered twice under one attempt.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from nats.js import JetStreamContext

from shared import subjects
from shared.broker import CONSUMERS
from shared.events import (
    AnyEvent,
    Event,
    JobFailed,
    ProgressReported,
    SceneCoded,
    SceneRendered,
    SceneRenderFailed,
    VideoStored,
    encode,
    utc_now,
)
from shared.history import Recorded, read_job
from shared.jobview import JobStore, JobView, StageRecord
from shared.stages import BY_NAME, ORDER

# The stage a replayed input puts the job back in (the stage of its consumer).
REPLAY_STAGE = {
    "job.requested": "initializing",
    "scene.planned": "code_generation",
    "scene.coded": "rendering",
    "scene.render_failed": "rendering",
    "scene.rendered": "combining",
    "video.combined": "storage",
}
REPLAYABLE = tuple(dict.fromkeys(  # scene.rendered has two consumers (combine, critique)
    spec.event_type
    for spec in CONSUMERS.values()
    if spec.event_type is not None and spec.event_type in REPLAY_STAGE
))


class ReplayRefused(Exception):
    """Replaying would do nothing or harm the job; the message says why and what to do."""


def _scene(event: AnyEvent | None) -> int | None:
    if isinstance(event, ProgressReported):
        return event.scene
    return getattr(event, "scene_number", None)


def _stage(event: AnyEvent | None) -> str:
    if isinstance(event, ProgressReported):
        return f"{event.stage} {event.percentage:g}%"
    if isinstance(event, JobFailed):
        return event.error.stage
    return ""


def _detail(event: AnyEvent | None) -> str:
    match event:
        case None:
            return "malformed: not a known event"
        case JobFailed():
            return f"{event.error.code}: {event.error.message}"[:100]
        case SceneRenderFailed():
            return f"{event.error.kind}: {event.error.message}"[:100]
        case SceneRendered():
            return f"{event.duration_seconds:.1f}s video in {event.render_seconds:.1f}s"
        case VideoStored():
            return event.video.video_key
        case ProgressReported():
            return event.detail or ""
        case _:
            return ""


def format_timeline(records: list[Recorded]) -> str:
    """The timeline as an aligned table: time, event, stage, scene, attempt, +since previous."""
    header = ("seq", "time (UTC)", "event", "stage", "scene", "attempt", "+seconds", "detail")
    rows = [header]
    previous: datetime | None = None
    for record in records:
        since = "" if previous is None else f"{(record.stored_at - previous).total_seconds():.3f}"
        previous = record.stored_at
        attempt = getattr(record.event, "attempt", None)
        scene = _scene(record.event)
        rows.append((
            str(record.sequence),
            record.stored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            record.event_type,
            _stage(record.event),
            "" if scene is None else str(scene),
            "" if attempt is None else str(attempt),
            since,
            _detail(record.event),
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)),
                   row[-1]]).rstrip()
        for row in rows
    )


def next_attempt(records: list[Recorded], scene: int) -> int:
    """One more than the highest attempt any recorded event shows for `scene`."""
    attempts = [
        record.event.attempt
        for record in records
        if isinstance(record.event, SceneCoded | SceneRendered | SceneRenderFailed)
        and record.event.scene_number == scene
    ]
    return max(attempts, default=0) + 1


def replay_of(records: list[Recorded], event_type: str, *, scene: int | None) -> tuple[Event, str]:
    """The event to publish for a replay from `event_type`, and its message id.

    The most recent recorded event of that type (and scene) is the template. A
    `scene.coded` becomes the scene's next attempt (so its outputs are new too); a
    `scene.render_failed` carries the scene's latest attempt, so the coder's repair is
    the next one. Other inputs are published as recorded under a fresh message id.
    """
    if event_type not in REPLAYABLE:
        raise ReplayRefused(
            f"{event_type} is no stage's input; replayable: {', '.join(REPLAYABLE)}"
        )
    matches = [
        record.event
        for record in records
        if record.event is not None and record.event.type == event_type
        and (scene is None or _scene(record.event) == scene)
    ]
    if not matches:
        where = "" if scene is None else f" for scene {scene}"
        raise ReplayRefused(f"the job has no recorded {event_type}{where}")
    event: Event = msgspec.structs.replace(matches[-1], occurred_at=utc_now())
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
        StageRecord(stage=stage, percentage=BY_NAME[stage].percentage,
                    description=BY_NAME[stage].description, started_at=at)
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
    if view is None:
        raise ReplayRefused("the job's view is gone (deleted or expired): stages would skip it")
    if view.status == "cancelled":
        raise ReplayRefused("the job was cancelled by its owner; it stays cancelled")
    if view.is_terminal and not reopen:
        raise ReplayRefused(
            f"the job is {view.status} and stages skip finished jobs; pass --reopen to put "
            "it back to processing"
        )
    if view.is_terminal:
        stage = REPLAY_STAGE[event_type]
        await jobs.update(
            event.user_id, job_id,
            lambda current: reopened(current, stage, at=utc_now()) if current.is_terminal else None,
        )
    ack = await js.publish(
        subjects.event_subject(job_id, event.type), encode(event),
        stream=subjects.STREAM, headers={"Nats-Msg-Id": message_id},
    )
    if ack.duplicate:
        raise ReplayRefused(f"attempt {message_id} was published already (de-duplicated)")
    return Replayed(event, message_id, ack.seq, reopened=view.is_terminal)

