"""Accepting a job: the view first, then the idempotency record, then `job.requested`.

The view exists before anything can point at it, so a repeated `Idempotency-Key` always
finds the first job (unless its owner deleted it). If the request cannot be queued, both
records are removed again, so a retry with the same key starts afresh.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from services.gateway.errors import ApiError
from services.gateway.schemas import GenerateRequest
from services.gateway.state import Gateway
from shared.events import JobConfig, JobContext, JobRequested
from shared.jobview import JobView, user_key
from shared.metrics import JOBS
from shared.settings import Settings


def new_job(
    request: GenerateRequest, *, user: str, settings: Settings, now: datetime
) -> JobRequested:
    """The `job.requested` event for a request, with the service's defaults resolved."""
    configuration = request.configuration
    config = JobConfig(
        **configuration.model_dump(exclude={"quality", "use_rag"}),
        quality=configuration.quality or settings.default_quality,
        use_rag=settings.use_rag if configuration.use_rag is None else configuration.use_rag,
    )
    return JobRequested(
        job_id=str(uuid.uuid4()),
        user_id=user,
        occurred_at=now,
        config=config,
        context=JobContext(
            quality=config.quality,
            scene_model=config.model or settings.scene_model,
            enable_subtitles=config.enable_subtitles,
            enable_thumbnails=config.enable_thumbnails,
            use_rag=config.use_rag,
            narrate=settings.narration_on,
        ),
        priority=request.priority,
    )


def idempotency_entry(user: str, idempotency_key: str) -> str:
    """A KV key for one user's Idempotency-Key (hashed: any client text is KV-safe)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"{user_key(user)}.{digest}"


async def submit(
    app: Gateway, job: JobRequested, *, idempotency_key: str | None
) -> tuple[JobView, bool]:
    """The job's view and whether it is new (False: the key's first job is returned)."""
    if idempotency_key is None or not await _known_key(app, job.user_id, idempotency_key):
        admit(app, job.user_id)
    view = await open_job(
        app, job_id=job.job_id, user=job.user_id, config=job.config, priority=job.priority,
        now=job.occurred_at,
    )
    entry = None if idempotency_key is None else idempotency_entry(job.user_id, idempotency_key)
    if entry is not None:
        try:
            await app.idempotency.create(entry, job.job_id.encode())
        except KeyWrongLastSequenceError:
            await drop_job(app, view)
            return await _first_job(app, job.user_id, entry), False
    try:
        await app.deps.bus.publish(job)
    except (NatsError, TimeoutError) as exc:
        if entry is not None:
            await app.idempotency.purge(entry)
        raise await not_queued(app, view) from exc
    return view, True


async def open_job(
    app: Gateway, *, job_id: str, user: str, config: JobConfig, priority: str, now: datetime,
    kind: str = "generate",
) -> JobView:
    """Store a new job's view (queued) before any event can point at it, and count it."""
    view = JobView(
        job_id=job_id, user_id=user, config=config, priority=priority, kind=kind,
        created_at=now, updated_at=now,
        estimated_completion=app.workload.estimated_completion(config.quality, now=now),
    )
    await app.deps.jobs.create(view)
    app.workload.observe(view)
    JOBS.labels("queued").inc()
    return view


async def drop_job(app: Gateway, view: JobView) -> None:
    """Remove a view that never got its job queued."""
    app.workload.forget(view.job_id)
    await app.deps.jobs.delete(view.user_id, view.job_id)


async def not_queued(app: Gateway, view: JobView) -> ApiError:
    """Drop the view of a job whose events could not be published; the 503 to raise."""
    await drop_job(app, view)
    return ApiError(503, "SERVICE_UNAVAILABLE", "The job could not be queued; retry shortly")


def admit(app: Gateway, user: str) -> None:
    """429 when the system, or this user, already has as many unfinished jobs as allowed.

    Nothing already accepted is dropped: the limit only turns new work away.
    """
    settings = app.deps.settings
    for active, limit, whose in (
        (app.workload.count(), settings.max_queued_jobs, "The service"),
        (app.workload.count(user), settings.max_queued_jobs_per_user, "You"),
    ):
        if active >= limit:
            retry_after = app.workload.retry_after_seconds()
            raise ApiError(
                429, "RATE_LIMIT_EXCEEDED",
                f"{whose} already {'has' if whose != 'You' else 'have'} {active} unfinished "
                f"jobs (limit {limit}); retry in about {retry_after} s",
                details={"active_jobs": active, "limit": limit},
                headers={"Retry-After": str(retry_after)},
            )


async def _known_key(app: Gateway, user: str, idempotency_key: str) -> bool:
    """Whether this key already names a job: its repeat is an answer, not new work."""
    try:
        await app.idempotency.get(idempotency_entry(user, idempotency_key))
    except KeyNotFoundError:
        return False
    return True


async def _first_job(app: Gateway, user: str, entry: str) -> JobView:
    first_job_id = (await app.idempotency.get(entry)).value or b""
    view = await app.deps.jobs.get(user, first_job_id.decode())
    if view is None:
        raise ApiError(
            409, "CONFLICT", "The job created with this Idempotency-Key no longer exists",
            details={"job_id": first_job_id.decode()},
        )
    return view
