"""Tracing on a real nats-server: the trace context rides in message headers, so a
published event, the stage that handles it and what that stage publishes share one
trace, and span names carry event types, never job ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import subjects
from shared.events import ProgressReported, SceneRenderFailed
from shared.service import StageDeps, connected
from shared.settings import Settings
from shared.tracing import instrument_app
from tests.integration.onejob import consume, forget_jobs, new_job


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    """Record spans in memory. OpenTelemetry's provider is set once per process."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
async def deps(settings: Settings, spans: InMemorySpanExporter) -> AsyncIterator[StageDeps]:
    async with connected(f"tracing{uuid.uuid4().hex[:6]}", settings) as stage:
        yield stage
        await forget_jobs(stage)


async def test_one_trace_from_publish_through_the_stage(
    deps: StageDeps, spans: InMemorySpanExporter
):
    handled = asyncio.Event()

    async def report(event: SceneRenderFailed) -> None:
        await deps.bus.progress(event, "rendering", scene=event.scene_number)
        handled.set()

    event = await new_job(deps)
    await consume(deps, event, report)
    await deps.broker.start()
    await deps.bus.publish(event)
    await asyncio.wait_for(handled.wait(), 10)

    names = {
        "videogen.*.scene.render_failed publish",
        "videogen.*.scene.render_failed process",
        "scene.render_failed",
        "videogen.*.progress publish",
    }

    def trace_of_job() -> list[ReadableSpan]:
        handler = [
            span
            for span in spans.get_finished_spans()
            if (span.attributes or {}).get("videogen.job_id") == event.job_id
        ]
        if not handler:
            return []
        trace_id = handler[0].context.trace_id
        return [span for span in spans.get_finished_spans() if span.context.trace_id == trace_id]

    for _ in range(50):  # the consumer's span ends after the ack
        if names <= {span.name for span in trace_of_job()}:
            break
        await asyncio.sleep(0.1)
    one_trace = trace_of_job()
    assert names <= {span.name for span in one_trace}
    published = {
        str((span.attributes or {}).get("messaging.destination.name"))
        for span in one_trace
        if span.name.endswith(" publish")
    }
    assert published == {
        subjects.event_subject(event.job_id, kind)
        for kind in (SceneRenderFailed.type, ProgressReported.type)
    }
    assert not any(event.job_id in span.name for span in spans.get_finished_spans())


async def test_an_http_request_and_the_stage_it_starts_share_one_trace(
    deps: StageDeps, spans: InMemorySpanExporter
):
    handled = asyncio.Event()

    async def stage(event: SceneRenderFailed) -> None:
        handled.set()

    event = await new_job(deps)
    await consume(deps, event, stage)
    await deps.broker.start()
    app = FastAPI()

    @app.post("/jobs/{job_id}/retry")
    async def retry(job_id: str) -> dict[str, str]:
        await deps.bus.publish(event)
        return {"job_id": job_id}

    instrument_app(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.post(f"/jobs/{event.job_id}/retry")).status_code == 200
    await asyncio.wait_for(handled.wait(), 10)

    request = next(
        span for span in spans.get_finished_spans() if span.name == "POST /jobs/{job_id}/retry"
    )
    for _ in range(50):
        handler = [
            span
            for span in spans.get_finished_spans()
            if (span.attributes or {}).get("videogen.job_id") == event.job_id
        ]
        if handler:
            break
        await asyncio.sleep(0.1)
    assert handler and handler[0].context.trace_id == request.context.trace_id
