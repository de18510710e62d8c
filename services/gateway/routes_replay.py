"""`/api/v1/jobs/{id}/events` and `…/replay`: event replay for users without bus access.

The same timeline as `videogen events` (`shared.timeline`) and the same replay as
`videogen replay` (`shared.replay`): one implementation, reached over HTTP, owner-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.errors import ApiError
from services.gateway.state import App, OwnedJob
from shared.history import read_job
from shared.replay import REPLAYABLE, ReplayRefused, replay
from shared.timeline import timeline

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class TimelineEntryBody(BaseModel):
    sequence: int = Field(description="Position in the event stream")
    stored_at: datetime
    event_type: str
    stage: str
    scene: int | None
    attempt: int | None
    seconds_since_previous: float | None
    detail: str


class JobEventsResponse(BaseModel):
    job_id: str
    events: list[TimelineEntryBody] = Field(description="Every recorded event, oldest first")


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Literal[REPLAYABLE] = Field(  # type: ignore[valid-type]
        alias="from", description="The recorded event type to publish again"
    )
    scene: int | None = Field(default=None, ge=1, description="The scene, for scene events")
    reopen: bool = Field(
        default=False, description="Put a completed or failed job back to processing first"
    )


class ReplayResponse(BaseModel):
    job_id: str
    event_type: str
    message_id: str = Field(description="The published message's id (its de-duplication key)")
    sequence: int = Field(description="Its position in the event stream")
    attempt: int | None = Field(description="The scene attempt it starts, for scene events")
    reopened: bool


@router.get("/{job_id}/events", response_model=JobEventsResponse)
async def job_events(view: OwnedJob, app: App) -> JobEventsResponse:
    """The job's recorded events in order, with stage, scene, attempt and timings."""
    entries = timeline(await read_job(app.deps.js, view.job_id))
    return JobEventsResponse(
        job_id=view.job_id,
        events=[TimelineEntryBody.model_validate(entry, from_attributes=True) for entry in entries],
    )


@router.post(
    "/{job_id}/replay",
    response_model=ReplayResponse,
    responses={409: {"description": "Replaying would do nothing or harm the job"}},
)
async def replay_job(view: OwnedJob, app: App, body: ReplayRequest) -> ReplayResponse:
    """Publish the job's most recent recorded `from` event again, as `videogen replay` does."""
    try:
        done = await replay(
            app.deps.js, view.job_id, body.from_, scene=body.scene, reopen=body.reopen
        )
    except ReplayRefused as exc:
        raise ApiError(
            409,
            "CONFLICT",
            f"Not replayed: {exc}",
            details={"status": view.status, "from": body.from_},
        ) from exc
    return ReplayResponse(
        job_id=view.job_id,
        event_type=done.event.type,
        message_id=done.message_id,
        sequence=done.sequence,
        attempt=getattr(done.event, "attempt", None),
        reopened=done.reopened,
    )
