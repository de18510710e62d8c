"""Accepting a job: the view first, then the idempotency record, then `job.requested`.

The view exists before anything can point at it, so a repeated `Idempotency-Key` always
finds the first job (unless its owner deleted it). If the request cannot be queued, both
records are removed again, so a retry with the same key starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from datetime import datetime

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from services.gateway.errors import ApiError, unavailable
from services.gateway.outage import BUS_ERRORS, bounded, probe, publish_surely
from services.gateway.schemas import GenerateRequest
from services.gateway.state import Gateway
from shared.events import JobConfig, JobContext, JobRequested, utc_now
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
            priority=request.priority,
            narrate=settings.narration_on,
        ),
        priority=request.priority,
    )


def idempotency_entry(user: str, idempotency_key: str) -> str:
    """A KV key for one user's Idempotency-Key (hashed: any client text is KV-safe)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"{user_key(user)}.{digest}"


def fingerprint(request: GenerateRequest) -> str:
    """What makes two requests "the same" for an Idempotency-Key: the validated body."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def submit(
    app: Gateway,
    job: JobRequested,
    *,
    idempotency_key: str | None,
    body_hash: str = "",
    webhook_url: str | None = None,
) -> tuple[JobView, bool]:
    """The job's view and whether it is new (False: the key's first job is returned).

    A key reused with another body is a 422, as payment APIs answer: the client is
    confused, and answering with the first job would hide that.
    """
    entry = None if idempotency_key is None else idempotency_entry(job.user_id, idempotency_key)
    if entry is not None:
        first = await _first_job(app, job.user_id, entry, body_hash)
        if first is not None:
            return first, False
    admit(app, job.user_id)
    view = await open_job(
        app,
        job_id=job.job_id,
        user=job.user_id,
        config=job.config,
        priority=job.priority,
        now=job.occurred_at,
        webhook_url=webhook_url,
    )
    owns_entry = False
    try:
        if entry is not None:
            try:
                await app.idempotency.create(entry, f"{job.job_id} {body_hash}".encode())
                owns_entry = True
            except KeyWrongLastSequenceError:  # the same key, at the same moment
                await drop_job(app, view)
                first = await _first_job(app, job.user_id, entry, body_hash)
                if first is None:
                    raise unavailable("The job could not be queued; retry shortly") from None
                return first, False
        await publish_surely(app.deps.bus, job)
    except BUS_ERRORS as exc:
        if owns_entry:
            with contextlib.suppress(*BUS_ERRORS):
                await app.idempotency.purge(entry)  # type: ignore[arg-type]
        raise await not_queued(app, view) from exc
    return view, True


async def open_job(
    app: Gateway,
    *,
    job_id: str,
    user: str,
    config: JobConfig,
    priority: str,
    now: datetime,
    kind: str = "generate",
    webhook_url: str | None = None,
) -> JobView:
    """Store a new job's view (queued) before any event can point at it, and count it."""
    view = JobView(
        job_id=job_id,
        user_id=user,
        config=config,
        priority=priority,
        kind=kind,
        webhook_url=webhook_url,
        created_at=now,
        updated_at=now,
        estimated_completion=app.workload.estimated_completion(config.quality, now=now),
    )
    await probe(app.deps)  # a frozen bus would apply a timed-out create when it resumes
    try:
        await app.deps.jobs.create(view)
    except BUS_ERRORS as exc:
        raise await not_queued(app, view) from exc  # its purge follows the create, in order
    app.workload.observe(view)
    JOBS.labels("queued").inc()
    return view


async def drop_job(app: Gateway, view: JobView) -> None:
    """Remove a view that never got its job queued."""
    app.workload.forget(view.job_id)
    await app.deps.jobs.delete(view.user_id, view.job_id)


async def not_queued(app: Gateway, view: JobView) -> ApiError:
    """Drop (as far as the bus lets us) the view of a job that could not be queued; the 503."""
    app.workload.forget(view.job_id)
    with contextlib.suppress(*BUS_ERRORS):
        await bounded(drop_job(app, view))
    return unavailable("The job could not be queued; retry shortly")


def admit(app: Gateway, user: str) -> None:
    """429 when the system, or this user, already has as many unfinished jobs as allowed.

    Nothing already accepted is dropped: the limit only turns new work away.
    """
    app.conditions.refuse_new_work(utc_now())
    settings = app.deps.settings
    for active, limit, whose in (
        (app.workload.count(), settings.max_queued_jobs, "The service"),
        (app.workload.count(user), settings.max_queued_jobs_per_user, "You"),
    ):
        if active >= limit:
            retry_after = app.workload.retry_after_seconds()
            raise ApiError(
                429,
                "RATE_LIMIT_EXCEEDED",
                f"{whose} already {'has' if whose != 'You' else 'have'} {active} unfinished "
                f"jobs (limit {limit}); retry in about {retry_after} s",
                details={"active_jobs": active, "limit": limit},
                headers={"Retry-After": str(retry_after)},
            )


async def _first_job(app: Gateway, user: str, entry: str, body_hash: str) -> JobView | None:
    """The job this key already made (None: the key is new); 422 when the body differs."""
    try:
        record = (await app.idempotency.get(entry)).value or b""
    except KeyNotFoundError:
        return None
    first_job_id, _, first_hash = record.decode().partition(" ")
    if first_hash and body_hash and first_hash != body_hash:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "This Idempotency-Key was used with a different request body",
            details={
                "field_errors": [
                    {
                        "field": "Idempotency-Key",
                        "type": "idempotency_key_reused",
                        "message": "reuse a key only to retry the very same request",
                    }
                ],
                "job_id": first_job_id,
            },
        )
    view = await app.deps.jobs.get(user, first_job_id)
    if view is None:
        raise ApiError(
            409,
            "CONFLICT",
            "The job created with this Idempotency-Key no longer exists",
            details={"job_id": first_job_id},
        )
    return view
