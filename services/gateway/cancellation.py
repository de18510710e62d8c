"""Cancelling a job: the view turns `cancelled` first, then `job.cancelled` goes out.

Stages check the view before starting work, so flipping it first stops new work at
once; the event then reaches work already running (the renderer kills its renders).
"""

from __future__ import annotations

from services.gateway.errors import ApiError, not_found
from services.gateway.projection import cancel
from services.gateway.state import Gateway
from services.gateway.views import not_ready_details
from shared.events import JobCancelled, utc_now
from shared.jobview import JobView

REASON = "cancelled by user"


async def cancel_job(app: Gateway, view: JobView) -> JobView:
    """The cancelled view; 409 when the job had already ended (perhaps a moment ago)."""
    cancelled_at = utc_now()
    updated = await app.deps.jobs.update(
        view.user_id, view.job_id, lambda current: cancel(current, at=cancelled_at)
    )
    if updated is None:
        raise not_found()
    if updated.status != "cancelled" or updated.completed_at != cancelled_at:
        raise ApiError(
            409, "CONFLICT", f"Job is already {updated.status}", details=not_ready_details(updated)
        )
    await app.deps.bus.publish(
        JobCancelled(
            job_id=view.job_id, user_id=view.user_id, occurred_at=cancelled_at, reason=REASON
        )
    )
    return updated
