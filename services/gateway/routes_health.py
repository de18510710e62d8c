"""`/health` (the process is alive) and `/ready` (it can reach NATS and the event stream)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from nats.errors import Error as NatsError

from services.gateway.errors import ApiError
from services.gateway.schemas import HealthResponse, ReadyResponse
from services.gateway.state import App
from shared import subjects

router = APIRouter(tags=["health"])
READY_TIMEOUT_SECONDS = 2.0


@router.get("/health", response_model=HealthResponse)
async def health() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get("/ready", response_model=ReadyResponse,
            responses={503: {"description": "NATS or the event stream is unreachable"}})
async def ready(app: App) -> ReadyResponse:
    if not app.deps.connection.is_connected:
        raise _unavailable("NATS is not connected", nats="disconnected")
    try:
        await asyncio.wait_for(
            app.deps.js.stream_info(subjects.STREAM), timeout=READY_TIMEOUT_SECONDS
        )
    except (NatsError, TimeoutError) as exc:
        raise _unavailable("The event stream is unavailable", nats="connected") from exc
    return ReadyResponse(status="ready", nats="connected", stream=subjects.STREAM)


def _unavailable(message: str, *, nats: str) -> ApiError:
    return ApiError(503, "SERVICE_UNAVAILABLE", message,
                    details={"nats": nats, "stream": subjects.STREAM})
