"""`/health` (alive), `/ready` (NATS and the event stream reachable) and `/metrics`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from nats.errors import Error as NatsError

from services.gateway.errors import ApiError, unavailable
from services.gateway.schemas import HealthResponse, ReadyResponse
from services.gateway.state import Gateway
from shared import subjects
from shared.events import utc_now
from shared.metrics import metrics_response

router = APIRouter(tags=["health"])
READY_TIMEOUT_SECONDS = 2.0


@router.get("/health", response_model=HealthResponse)
async def health() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"description": "NATS or the event stream is unreachable"}},
)
async def ready(request: Request) -> ReadyResponse:
    app: Gateway = request.app.state.gateway  # not `App`: that one answers 503 by itself
    if not app.deps.connection.is_connected:
        raise _unavailable("NATS is not connected", nats="disconnected")
    try:
        await asyncio.wait_for(
            app.deps.js.stream_info(subjects.STREAM), timeout=READY_TIMEOUT_SECONDS
        )
    except (NatsError, TimeoutError) as exc:
        raise _unavailable("The event stream is unavailable", nats="connected") from exc
    # Still ready while degraded: status, downloads and deletes (which free space) work.
    conditions = app.conditions.active(utc_now())
    return ReadyResponse(
        status="degraded" if conditions else "ready",
        nats="connected",
        stream=subjects.STREAM,
        conditions=conditions,
    )


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text: jobs by status, events, stage durations (bounded labels only)."""
    body, content_type = metrics_response()
    return Response(body, media_type=content_type)


def _unavailable(message: str, *, nats: str) -> ApiError:
    return unavailable(message, details={"nats": nats, "stream": subjects.STREAM})
