"""The gateway's FastAPI app: routes, error shape, edge middleware, and its NATS lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.gateway import (
    routes_health,
    routes_jobs,
    routes_render,
    routes_scenes,
    routes_system,
    routes_videos,
)
from services.gateway.errors import install_error_handlers
from services.gateway.handlers import projecting, stop_loop
from services.gateway.middleware import BodyLimitMiddleware, RequestIdMiddleware
from services.gateway.state import Gateway
from services.gateway.workload import Workload, follow
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
        async with connected("gateway", settings) as deps, projecting(deps):
            await deps.broker.start()
            workload, stop = Workload(), asyncio.Event()
            following = asyncio.create_task(follow(deps.jobs.kv, workload, stop))
            pending = asyncio.create_task(watch_pending(deps.js, [CONSUMERS["gateway"].durable]))
            app.state.gateway = Gateway(
                deps=deps,
                store=open_video_store(settings),
                idempotency=await deps.js.key_value(subjects.IDEMPOTENCY_BUCKET),
                workload=workload,
            )
            if settings.single_user_mode:
                log.warning("single-user local mode: no API_KEYS configured, "
                            "every request acts as user 'local'")
            log.info("gateway ready", extra={"nats_url": settings.nats_url})
            try:
                yield
            finally:
                pending.cancel()
                await stop_loop(following, stop, grace=0.5)  # it holds nothing to finish

    app = FastAPI(
        title="videogen gateway",
        version="1.0.0",
        summary="Topic and description in, explanatory Manim video out.",
        lifespan=lifespan,
    )
    instrument_app(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestIdMiddleware)
    for module in (
        routes_videos, routes_scenes, routes_render, routes_jobs, routes_system, routes_health
    ):
        app.include_router(module.router)
    return app
