"""`/api/v1/jobs…`: list, inspect, cancel and delete jobs, and read a job's log."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.gateway import eventlog, schemas, views
from services.gateway.cancellation import REASON, cancel_job
from services.gateway.errors import ApiError
from services.gateway.outage import BUS_ERRORS, bounded, probe
from services.gateway.state import App, OwnedJob, User
from shared.events import utc_now
from shared.history import events_of, read_job
from shared.videostore import object_key

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
log = logging.getLogger("videogen.gateway")


@router.get("", response_model=schemas.JobListResponse)
async def list_jobs(
    user: User,
    app: App,
    page: Annotated[int, Query(ge=1)] = 1,
    items_per_page: Annotated[int, Query(ge=1, le=100)] = 10,
    status: schemas.JobStatus | None = None,
) -> schemas.JobListResponse:
    """The caller's jobs, newest first."""
    jobs = await bounded(app.deps.jobs.list_for_user(user))
    if status is not None:
        jobs = [view for view in jobs if view.status == status]
    first = (page - 1) * items_per_page
    now = utc_now()
    return schemas.JobListResponse(
        jobs=[views.job_response(view, now=now) for view in jobs[first : first + items_per_page]],
        total_count=len(jobs),
        page=page,
        items_per_page=items_per_page,
        has_next=first + items_per_page < len(jobs),
        has_previous=page > 1,
    )


@router.get("/{job_id}", response_model=schemas.JobStatusResponse)
async def get_job(view: OwnedJob) -> schemas.JobStatusResponse:
    return views.job_status(view, now=utc_now())


@router.post(
    "/{job_id}/cancel",
    response_model=schemas.CancelResponse,
    responses={409: {"description": "The job has already ended"}},
)
async def cancel(view: OwnedJob, app: App) -> schemas.CancelResponse:
    """Stops the work, not just the status: stages skip it and running renders are killed."""
    cancelled_at = await cancel_job(app, view)
    return schemas.CancelResponse(
        success=True,
        message=f"Job {REASON}",
        job_id=view.job_id,
        previous_status=view.status,  # type: ignore[arg-type]
        new_status="completed" if view.revision > 1 else "cancelled",
        cancelled_at=cancelled_at,
    )


@router.delete("/{job_id}", response_model=schemas.DeleteResponse)
async def delete(view: OwnedJob, app: App) -> schemas.DeleteResponse:
    """Cancels a running job first, then removes its view, artifacts and files.

    Bus steps come first and the view's removal is the point of no return: a bus
    failure before it answers 503 with the job whole (files included), never a job
    whose files are gone. After it, leftovers are logged (artifacts also expire).
    """
    await probe(app.deps)
    if not view.is_terminal:
        try:
            await cancel_job(app, view)
        except ApiError as exc:
            if exc.status_code != 409:  # 409: it ended meanwhile, which is just as good
                raise
    await bounded(app.deps.jobs.delete(view.user_id, view.job_id))
    try:
        await bounded(app.deps.artifacts.delete_job(view.job_id))
    except BUS_ERRORS:
        log.warning("artifacts of a deleted job left to expire", extra={"job_id": view.job_id})
    try:
        await app.store.delete_prefix(object_key(view.user_id, view.job_id, ""))
    except Exception:
        log.exception("files of a deleted job could not be removed", extra={"job_id": view.job_id})
    return schemas.DeleteResponse(
        success=True, message="Job deleted", job_id=view.job_id, deleted_at=utc_now()
    )


@router.get("/{job_id}/logs", response_model=schemas.JobLogsResponse)
async def job_logs(
    view: OwnedJob,
    app: App,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    level: Literal["", "debug", "info", "warning", "error"] = "",
) -> schemas.JobLogsResponse:
    """The job's events, oldest first, as lines; `level` keeps that level and worse."""
    events = events_of(await bounded(read_job(app.deps.js, view.job_id)))
    lines = eventlog.log_lines(events, min_level=level or None)
    page = lines[offset : offset + limit]
    return schemas.JobLogsResponse(
        job_id=view.job_id,
        logs=[
            schemas.LogLine(
                timestamp=line.timestamp, level=line.level, stage=line.stage, message=line.message
            )
            for line in page
        ],
        pagination=schemas.LogPagination(
            offset=offset,
            limit=limit,
            total_count=len(lines),
            returned_count=len(page),
            has_more=offset + len(page) < len(lines),
        ),
    )
