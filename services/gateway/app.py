"""The gateway's FastAPI app: routes, error shape, edge middleware, and its NATS lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.gateway import (
    openapi,
    outage,
    routes_health,
    routes_jobs,
    routes_render,
    routes_replay,
    routes_revisions,
    routes_scenes,
    routes_system,
    routes_videos,
    routes_webhooks,
)
from services.gateway.conditions import follow as follow_conditions
from services.gateway.errors import install_error_handlers
from services.gateway.handlers import projecting, stop_loop
from services.gateway.middleware import BodyLimitMiddleware, RequestIdMiddleware
from services.gateway.state import Gateway
from services.gateway.webhooks import delivering
from services.gateway.workload import Workload, follow, watch_backlog
from shared import subjects
from shared.broker import CONSUMERS
from shared.metrics import watch_pending
from shared.service import connected
from shared.settings import Settings
from shared.storage_modes import open_video_store
from shared.tracing import instrument_app

log = logging.getLogger("videogen.gateway")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            connected("gateway", settings) as deps,
            projecting(deps),
            delivering(deps.jobs.kv, await deps.js.key_value(subjects.WEBHOOKS_BUCKET), settings),
        ):
            await deps.broker.start()
            workload, stop = Workload(), asyncio.Event()
            following = asyncio.create_task(follow(deps.jobs.kv, workload, stop))
            backlog = asyncio.create_task(watch_backlog(deps.js, workload, stop))
            pending = asyncio.create_task(watch_pending(deps.js, [CONSUMERS["gateway"].durable]))
            app.state.gateway = Gateway(
                deps=deps,
                store=open_video_store(settings),
                idempotency=await deps.js.key_value(subjects.IDEMPOTENCY_BUCKET),
                workload=workload,
            )
            conditions = asyncio.create_task(
                follow_conditions(
                    await deps.js.key_value(subjects.CONDITIONS_BUCKET),
                    app.state.gateway.conditions,
                    stop,
                )
            )
            if settings.single_user_mode:
                log.warning(
                    "single-user local mode: no API_KEYS configured, "
                    "every request acts as user 'local'"
                )
            log.info("gateway ready", extra={"nats_url": settings.nats_url})
            try:
                yield
            finally:
                pending.cancel()
                await stop_loop(following, stop, grace=0.5)  # it holds nothing to finish
                await stop_loop(backlog, stop, grace=0.5)
                await stop_loop(conditions, stop, grace=0.5)

    # Swagger UI and ReDoc assets come from the fastapi-offline package, served by the
    # gateway itself: /docs works offline and on air-gapped installs.
    app = FastAPIOffline(
        title="videogen gateway",
        version="1.0.0",
        summary="Topic and description in, explanatory Manim video out.",
        lifespan=lifespan,
    )
    instrument_app(app)
    install_error_handlers(app)
    outage.install(app)
    openapi.install(app, settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestIdMiddleware)
    for module in (
        routes_videos,
        routes_scenes,
        routes_render,
        routes_jobs,
        routes_system,
        routes_health,
        routes_replay,
        routes_revisions,
        routes_webhooks,
    ):
        app.include_router(module.router)
    return app
