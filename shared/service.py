"""The life of one stage process: connect, declare topology, subscribe, serve, stop.

Each service's `__main__` calls `serve_stage(name, settings, register)`; `register`
receives the connected `StageDeps` and subscribes the service's handlers. Stopping
(SIGTERM/SIGINT) drains the connection, so a message in progress is either finished
or left unacknowledged for another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared import subjects
from shared.access import ACCESS
from shared.artifacts import Artifacts
from shared.broker import ensure_topology, make_broker, wait_for_topology
from shared.jobview import JobStore
from shared.logs import configure_logging
from shared.metrics import start_metrics_server, watch_pending
from shared.runtime import Bus, StageRunner
from shared.settings import Settings, SettingsError, load_settings
from shared.tracing import configure_tracing

log = logging.getLogger("videogen.service")


@dataclass
class StageDeps:
    """Everything a stage's handlers may use, built once per process."""

    name: str
    settings: Settings
    broker: NatsBroker
    connection: Client
    js: JetStreamContext
    bus: Bus
    jobs: JobStore
    artifacts: Artifacts
    runner: StageRunner


@contextlib.asynccontextmanager
async def connected(name: str, settings: Settings) -> AsyncIterator[StageDeps]:
    """A connected broker with the topology in place, closed on exit."""
    broker = make_broker(settings, name=name)
    await broker.connect()
    connection = broker.connection
    js = connection.jetstream()
    access = ACCESS.get(settings.nats_user)
    if access is None or access.declares:  # the control plane, or a bus without users
        await ensure_topology(js, settings)
    else:
        await wait_for_topology(js, access.consumes, (*access.reads, *access.writes))
    bus = Bus(broker)
    jobs = JobStore(await js.key_value(subjects.JOBS_BUCKET))
    artifacts = Artifacts(await js.object_store(subjects.ARTIFACTS_BUCKET))
    runner = StageRunner(
        stage_service=name,
        bus=bus,
        jobs=jobs,
        ack_wait_seconds=settings.ack_wait_seconds,
        max_deliver=settings.max_deliver,
        inbox=subjects.inbox_of(settings.nats_user),
    )
    try:
        yield StageDeps(name, settings, broker, connection, js, bus, jobs, artifacts, runner)
    finally:
        await broker.stop()


async def serve_stage(
    name: str, settings: Settings, register: Callable[[StageDeps], Awaitable[None] | None]
) -> None:
    """Run a stage until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with connected(name, settings) as deps:
        pending = register(deps)
        if pending is not None:
            await pending
        await deps.broker.start()
        metrics = (
            start_metrics_server(settings.metrics_port, ready=lambda: deps.connection.is_connected)
            if settings.metrics_port
            else None
        )
        depth = asyncio.create_task(watch_pending(deps.js, deps.runner.consumers))
        log.info(
            "%s ready",
            name,
            extra={
                "nats_url": settings.nats_url,
                "nats_user": settings.nats_user,
                "metrics_port": settings.metrics_port,
            },
        )
        try:
            await stop.wait()
        finally:
            log.info("%s stopping", name)
            depth.cancel()
            if metrics is not None:
                metrics.shutdown()


def run_service(name: str, register: Callable[[StageDeps], Awaitable[None] | None]) -> None:
    """Entry point of a stage process: settings, logging, serve until stopped."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"{name}: {exc}")
    configure_logging(name, debug=settings.debug)
    configure_tracing(name, otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    asyncio.run(serve_stage(name, settings, register))
