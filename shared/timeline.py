"""A job's recorded events as timeline rows: what `videogen events` and `GET …/events` show.

One description of each recorded message (stage, scene, attempt, a short detail), so the
CLI on the bus and the REST route for users without bus access say the same thing.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.events import (
    AnyEvent,
    JobFailed,
    ProgressReported,
    RevisionPlanned,
    SceneAbandoned,
    SceneRendered,
    SceneRenderFailed,
    VideoStored,
)
from shared.history import Recorded


class TimelineEntry(msgspec.Struct, kw_only=True):
    """One recorded message of a job, described for people."""

    sequence: int
    stored_at: datetime
    event_type: str
    stage: str
    scene: int | None
    attempt: int | None
    seconds_since_previous: float | None
    detail: str


def scene_of(event: AnyEvent | None) -> int | None:
    """The scene an event is about, if any."""
    if isinstance(event, ProgressReported):
        return event.scene
    return getattr(event, "scene_number", None)


def timeline(records: list[Recorded]) -> list[TimelineEntry]:
    """Every recorded message in stream order, with the time since the one before."""
    entries: list[TimelineEntry] = []
    previous: datetime | None = None
    for record in records:
        since = None if previous is None else (record.stored_at - previous).total_seconds()
        previous = record.stored_at
        entries.append(
            TimelineEntry(
                sequence=record.sequence,
                stored_at=record.stored_at,
                event_type=record.event_type,
                stage=_stage(record.event),
                scene=scene_of(record.event),
                attempt=getattr(record.event, "attempt", None),
                seconds_since_previous=since,
                detail=_detail(record.event),
            )
        )
    return entries


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
        case SceneAbandoned():
            return f"left out: {event.reason}"[:100]
        case SceneRendered():
            source = "cached" if event.cached else f"in {event.render_seconds:.1f}s"
            return f"{event.duration_seconds:.1f}s video {source}"
        case RevisionPlanned():
            return f"revision {event.context.revision}: scenes {event.scenes}: {event.reason}"[:100]
        case VideoStored():
            return event.video.video_key
        case ProgressReported():
            return event.detail or ""
        case _:
            return ""
