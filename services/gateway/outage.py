"""The bus is down or slow: every route answers 503 with `Retry-After`, never 500.

Any NATS call a route makes can fail with a nats error, or time out: a frozen server
keeps its TCP connection open, so only the request's deadline notices. Instead of a
`try` around each call, the app maps these exceptions to the contract's 503 in one
handler. Routes that change things order their steps so that a 503 means nothing
changed (see `cancellation.py`, `routes_jobs.delete` and `submission.submit`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError

from services.gateway.errors import error_response, request_id_of, unavailable
from shared import subjects
from shared.events import Event
from shared.runtime import Bus
from shared.service import StageDeps

log = logging.getLogger("videogen.gateway.outage")

# What counts as "the bus did not answer": nats' own errors, any deadline, and the
# JSONDecodeError nats-py raises when a JetStream publish (a KV write too) gets an empty
# reply, as it does while the server is restarting or out of store space.
BUS_ERRORS: tuple[type[Exception], ...] = (NatsError, TimeoutError, json.JSONDecodeError)
# The longest one route waits on the bus for one step (nats-py's own request default).
BUS_TIMEOUT_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 2.0
PUBLISH_ATTEMPTS = 3

T = TypeVar("T")


def install(app: FastAPI) -> None:
    for kind in BUS_ERRORS:
        app.add_exception_handler(kind, _on_bus_error)


async def _on_bus_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "bus unavailable: %s",
        type(exc).__name__,
        extra={"path": request.url.path, "request_id": request_id_of(request.scope)},
    )
    problem = unavailable(
        "The message bus is unavailable; retry shortly", details={"nats": "unavailable"}
    )
    return error_response(
        request_id_of(request.scope),
        problem.status_code,
        problem.code,
        problem.message,
        details=problem.details,
        headers=problem.headers,
    )


def require_connected(deps: StageDeps) -> None:
    """503 at once while the client is reconnecting, rather than after a timeout."""
    if not deps.connection.is_connected:
        raise unavailable(
            "The message bus is not connected; retry shortly", details={"nats": "disconnected"}
        )


async def bounded(step: Awaitable[T], *, timeout: float = BUS_TIMEOUT_SECONDS) -> T:
    """One bus step with a deadline (watches and reads can otherwise wait for ever)."""
    return await asyncio.wait_for(step, timeout=timeout)


async def probe(deps: StageDeps) -> None:
    """A JetStream round trip before a change that must not half-happen.

    A request, not `flush()`: nats-py's flush leaves a cancelled future behind on
    timeout, and the late PONG then kills the client's read loop.
    """
    require_connected(deps)
    await bounded(deps.js.stream_info(subjects.STREAM), timeout=PROBE_TIMEOUT_SECONDS)


async def publish_surely(bus: Bus, event: Event) -> None:
    """Publish, retrying errors that came back fast (an empty reply, no responders).

    Every event has a message id, so JetStream drops a repeat: a publish whose
    acknowledgement was lost although the event was stored is retried, not reported as
    a failure. A timeout is not retried: the bus is slow, and the client gets a 503.
    """
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            await bounded(bus.publish(event))
            return
        except (TimeoutError, NatsTimeoutError):
            raise
        except (NatsError, json.JSONDecodeError):
            if attempt == PUBLISH_ATTEMPTS:
                raise
            await asyncio.sleep(0.1 * 2**attempt)
