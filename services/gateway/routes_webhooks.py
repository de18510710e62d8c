"""`GET /api/v1/jobs/{id}/webhooks`: every delivery of the job's webhook and its attempts;
and the check of a `webhook_url` at submit."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.gateway.errors import ApiError
from services.gateway.state import App, OwnedJob
from services.gateway.webhook_urls import UrlRefused, check_webhook_url
from services.gateway.webhooks import deliveries_of
from shared import subjects
from shared.settings import Settings

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class AttemptBody(BaseModel):
    number: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer")
    error: str | None
    duration_seconds: float


class DeliveryBody(BaseModel):
    id: str = Field(description="The `webhook-id` header, the same on every retry")
    event: str = Field(description="job.completed, job.failed or job.cancelled")
    state: str = Field(description="pending, delivered or failed (retries used up)")
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptBody]


class WebhooksResponse(BaseModel):
    job_id: str
    webhook_url: str | None
    deliveries: list[DeliveryBody]


@router.get("/{job_id}/webhooks", response_model=WebhooksResponse)
async def job_webhooks(view: OwnedJob, app: App) -> WebhooksResponse:
    """The job's webhook deliveries (one per time it ended), each attempt recorded."""
    kv = await app.deps.js.key_value(subjects.WEBHOOKS_BUCKET)
    return WebhooksResponse(
        job_id=view.job_id,
        webhook_url=view.webhook_url,
        deliveries=[
            DeliveryBody.model_validate(delivery, from_attributes=True)
            for delivery in await deliveries_of(kv, view.job_id)
        ],
    )


async def accepted_webhook_url(url: str | None, settings: Settings) -> str | None:
    """`url` if the gateway can and may call it, else 422 in the contract's shape."""
    if url is None:
        return None
    if not settings.webhook_secret:
        raise _invalid(
            "webhooks are off on this server (no WEBHOOK_SECRET is configured)", "value_error"
        )
    try:
        return await check_webhook_url(url, allow_private=settings.webhook_allow_private)
    except UrlRefused as exc:
        raise _invalid(f"the URL {exc}", "url_refused") from exc


def _invalid(message: str, kind: str) -> ApiError:
    return ApiError(
        422,
        "VALIDATION_ERROR",
        f"webhook_url: {message}",
        details={
            "field_errors": [{"field": "webhook_url", "message": message, "type": kind}],
        },
    )
