"""Prometheus metrics, defined once for every service, and the server that exposes them.

Labels are bounded on purpose: service, stage, event type, consumer, quality and outcome
(the LLM client counts its own requests by model: shared/llm/metrics.py). A job id or a
concrete subject never becomes a label, or every job would add series until Prometheus
falls over. Stage workers serve `/metrics` (plus `/healthz` and
`/readyz` for Kubernetes probes) from a small thread on `METRICS_PORT`; the gateway serves
the same registry through its own app with `metrics_response()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

from shared import subjects
from shared.tracing import span

log = logging.getLogger("videogen.metrics")

# From a 5 ms hand-off to a 10-minute high-quality render.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
PENDING_POLL_SECONDS = 15.0

EVENTS = Counter(
    "videogen_events",
    "Events a stage took from its consumer, by what became of them "
    "(handled, skipped, stopped, retried, failed, rejected).",
    ["service", "event_type", "outcome"],
)
STAGE_SECONDS = Histogram(
    "videogen_stage_duration_seconds",
    "Time a stage handler spent on one event.",
    ["service", "stage", "event_type", "outcome"],
    buckets=SECONDS_BUCKETS,
)
RENDERS = Counter(
    "videogen_renders", "Scene renders by quality and outcome.", ["quality", "outcome"]
)
RENDER_SECONDS = Histogram(
    "videogen_render_seconds",
    "Wall time of one scene render.",
    ["quality", "outcome"],
    buckets=SECONDS_BUCKETS,
)
JOBS = Counter(
    "videogen_jobs", "Jobs that reached each status (counted by the gateway).", ["status"]
)
CONSUMER_PENDING = Gauge(
    "videogen_consumer_pending_messages",
    "Events in the stream a durable consumer has not yet been given (its queue depth).",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "videogen_consumer_ack_pending_messages",
    "Events a durable consumer has handed out that are not yet acknowledged (in flight).",
    ["consumer"],
)


def metrics_response() -> tuple[bytes, str]:
    """(body, content type) of the metrics page, for an app that serves `/metrics` itself."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def observe_event(
    *, service: str, stage: str, event_type: str, outcome: str, seconds: float | None = None
) -> None:
    """Count one event a stage took, and time its handler when it ran."""
    EVENTS.labels(service, event_type, outcome).inc()
    if seconds is not None:
        STAGE_SECONDS.labels(service, stage, event_type, outcome).observe(seconds)


@contextlib.contextmanager
def observed_render(*, quality: str, **attributes: Any) -> Iterator[None]:
    """Span, count and time one render. A failure's `kind` attribute becomes the outcome."""
    started = time.perf_counter()
    outcome = "rendered"
    try:
        with span("render", quality=quality, **attributes):
            yield
    except BaseException as exc:
        kind = getattr(exc, "kind", None)
        outcome = kind if isinstance(kind, str) else "error"
        raise
    finally:
        RENDERS.labels(quality, outcome).inc()
        RENDER_SECONDS.labels(quality, outcome).observe(time.perf_counter() - started)


async def watch_pending(
    js: JetStreamContext, consumers: Iterable[str], *, every: float = PENDING_POLL_SECONDS
) -> None:
    """Publish each consumer's queue depth as a gauge until cancelled."""
    durables = sorted(set(consumers))
    while True:
        for durable in durables:
            try:
                info = await js.consumer_info(subjects.STREAM, durable)
            except (NatsError, TimeoutError) as exc:
                log.warning("cannot read consumer %s: %s", durable, exc)
                continue
            CONSUMER_PENDING.labels(durable).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(durable).set(info.num_ack_pending or 0)
        await asyncio.sleep(every)


class _QuietHandler(WSGIRequestHandler):
    """Probes and scrapes every few seconds would otherwise flood stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _with_probes(ready: Callable[[], bool]) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/readyz":
            ok = ready()
            start_response(
                "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
            )
            return [b"ready\n" if ok else b"not connected to NATS\n"]
        body: Iterable[bytes] = metrics(environ, start_response)
        return body

    return app


def start_metrics_server(
    port: int, *, ready: Callable[[], bool], host: str = "0.0.0.0"
) -> WSGIServer:
    """Serve `/metrics`, `/healthz` (alive) and `/readyz` (`ready()`) from a daemon thread.

    Port 0 picks a free port (see `server_port`); call `shutdown()` to stop.
    """
    server = make_server(
        host, port, _with_probes(ready), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
