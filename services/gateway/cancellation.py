"""Cancelling a job: `job.cancelled` goes out first, then the view turns `cancelled`.

Cancelling a job while a revision of it is made cancels that revision only: the job
stays completed with the video it had (the revision's history entry says cancelled).
The stored event *is* the cancel: from then on the renderer kills the job's renders and
the projector turns the view cancelled, whatever happens next here. Before it is stored
nothing has changed, so a bus failure is a clean 503 and the client may simply retry.
Marking the view right after only makes the cancel visible at once (stages check the
view before starting work).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from services.gateway.errors import ApiError
from services.gateway.outage import BUS_ERRORS, probe, publish_surely
from services.gateway.projection import cancel
from services.gateway.state import Gateway
from services.gateway.views import not_ready_details
from shared.events import JobCancelled, utc_now
from shared.jobview import JobView

REASON = "cancelled by user"


async def cancel_job(app: Gateway, view: JobView) -> datetime:
    """When the job was cancelled; 409 when it had already ended (perhaps a moment ago)."""
    if view.is_terminal:
        raise _already(view)
    await probe(app.deps)  # a frozen bus would store a timed-out cancel when it resumes
    cancelled_at = utc_now()
    await publish_surely(
        app.deps.bus,
        JobCancelled(
            job_id=view.job_id, user_id=view.user_id, occurred_at=cancelled_at, reason=REASON
        ),
    )
    updated = None
    with contextlib.suppress(*BUS_ERRORS):  # the projector applies the stored event anyway
        updated = await app.deps.jobs.update(
            view.user_id, view.job_id, lambda current: cancel(current, at=cancelled_at)
        )
    if updated is not None and not _cancelled(updated, view.revision):
        raise _already(updated)  # it finished before the event: the event changes nothing
    return cancelled_at


def _cancelled(view: JobView, revision: int) -> bool:
    """The job, or the revision of it being made (the job keeps its video), is cancelled."""
    record = view.revision_record(revision) if revision > 1 else None
    return view.status == "cancelled" or (record is not None and record.status == "cancelled")


def _already(view: JobView) -> ApiError:
    return ApiError(
        409, "CONFLICT", f"Job is already {view.status}", details=not_ready_details(view)
    )
