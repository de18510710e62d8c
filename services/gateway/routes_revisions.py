"""`POST /api/v1/videos/jobs/{id}/revise`: a new revision of a finished video.

Accepting follows job creation (submission.py): the view first (the job is processing
the new revision, which only one request can open: compare-and-set), then the
idempotency record, then `job.revision_requested`. When the request cannot be queued the
view is put back as it was, so nothing already stored is lost and a retry starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Response
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from services.gateway import schemas
from services.gateway.errors import ApiError, unavailable
from services.gateway.outage import BUS_ERRORS, bounded, probe, publish_surely
from services.gateway.revisions import (
    check_revisable,
    opened,
    revision_context,
    revision_request,
    withdrawn,
)
from services.gateway.state import App, Gateway, OwnedJob
from services.gateway.submission import admit, idempotency_entry
from shared.events import RevisionRequested, utc_now
from shared.history import events_of, read_job
from shared.jobview import JobView, RevisionRecord

router = APIRouter(prefix="/api/v1/videos", tags=["videos"])


@router.post(
    "/jobs/{job_id}/revise",
    status_code=202,
    response_model=schemas.RevisionResponse,
    responses={
        200: {
            "description": "The revision this Idempotency-Key already made",
            "model": schemas.RevisionResponse,
        },
        409: {"description": "The job is not completed (still running, failed or cancelled)"},
        422: {"description": "No such scene, or an empty, too long or malformed instruction"},
        429: {"description": "Too many unfinished jobs"},
    },
)
async def revise_job(
    body: schemas.ReviseRequest,
    view: OwnedJob,
    app: App,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> schemas.RevisionResponse:
    """Re-plan, re-code and re-render only the scenes the instruction touches (`scene`, or
    the planner decides); the video is joined again and stored as the next revision."""
    entry = None
    if idempotency_key is not None:
        entry = idempotency_entry(view.user_id, f"revise {view.job_id} {idempotency_key}")
        first = await _first_revision(app, view, entry, _fingerprint(body))
        if first is not None:
            response.status_code = 200
            return _response(view, first)
    scene_count = check_revisable(view, body.scene)
    admit(app, view.user_id)  # a revision is new work: the same limits (429, 507)
    context = revision_context(
        events_of(await read_job(app.deps.js, view.job_id)), revision=view.revision + 1
    )
    request = revision_request(
        view,
        context,
        scene_count=scene_count,
        scene=body.scene,
        instruction=body.instruction,
        now=utc_now(),
    )
    await probe(app.deps)
    updated = await app.deps.jobs.update(
        view.user_id, view.job_id, lambda current: opened(current, request)
    )
    if updated is None or updated.revision != request.context.revision:
        raise ApiError(409, "CONFLICT", "The job changed meanwhile (another revision?); retry")
    await _queue(app, updated, request, entry, _fingerprint(body))
    record = updated.revision_record(request.context.revision)
    assert record is not None
    return _response(updated, record)


async def _queue(
    app: Gateway, view: JobView, request: RevisionRequested, entry: str | None, body_hash: str
) -> None:
    """Record the key and publish the request; on a bus failure withdraw the revision."""
    revision = request.context.revision
    try:
        if entry is not None:
            with contextlib.suppress(KeyWrongLastSequenceError):  # the same key, twice at once
                await app.idempotency.create(entry, f"{revision} {body_hash}".encode())
        await publish_surely(app.deps.bus, request)
    except BUS_ERRORS as exc:
        with contextlib.suppress(*BUS_ERRORS):
            if entry is not None:
                await bounded(app.idempotency.purge(entry))
            await bounded(
                app.deps.jobs.update(
                    view.user_id, view.job_id, lambda current: withdrawn(current, revision)
                )
            )
        raise unavailable("The revision could not be queued; retry shortly") from exc


async def _first_revision(
    app: Gateway, view: JobView, entry: str, body_hash: str
) -> RevisionRecord | None:
    """The revision this key already made (None: the key is new); 422 for another body."""
    try:
        record = (await app.idempotency.get(entry)).value or b""
    except KeyNotFoundError:
        return None
    number, _, first_hash = record.decode().partition(" ")
    if first_hash != body_hash:
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
                ]
            },
        )
    return view.revision_record(int(number))


def _fingerprint(body: schemas.ReviseRequest) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def _response(view: JobView, record: RevisionRecord) -> schemas.RevisionResponse:
    return schemas.RevisionResponse(
        job_id=view.job_id,
        status=view.status,  # type: ignore[arg-type]
        revision=record.revision,
        scene=record.scene,
        instruction=record.instruction,
        created_at=record.created_at,
    )
