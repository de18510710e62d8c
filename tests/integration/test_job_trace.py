"""One job, one trace: from the HTTP request through planner, narrator, coder, renderer and
storage.

Every stage runs in this process (on its own broker connection, as in production) on a
private nats-server, with an in-memory span exporter; the trace context can only get
from one stage to the next inside the events' message headers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.coder.handlers import register as register_coder
from services.narrator.handlers import register as register_narrator
from services.planner.handlers import register as register_planner
from services.renderer.handlers import register as register_renderer
from services.storage.handlers import register as register_storage
from shared.service import connected
from shared.settings import Settings, load_settings
from tests.integration.test_gateway_api import opened_gateway
from tests.integration.test_tracing import spans  # noqa: F401 (fixture)
from videogen.natsd import running_nats_server
from videogen.topics import find_topic

STAGES = {
    "planner": register_planner,
    "narrator": register_narrator,
    "coder": register_coder,
    "renderer": register_renderer,
    "storage": register_storage,
}


@contextlib.asynccontextmanager
async def all_stages(settings: Settings) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for name, register in STAGES.items():
            deps = await stack.enter_async_context(connected(name, settings))
            pending = register(deps)
            if pending is not None:
                await pending
            await deps.broker.start()
        yield


async def test_a_job_is_one_trace_across_every_stage(
    tmp_path: Path,
    spans: InMemorySpanExporter,  # noqa: F811
):
    with running_nats_server(tmp_path / "nats") as server:
        settings = load_settings(
            {}, nats_url=server.url, data_dir=tmp_path / "data", default_quality="low"
        )
        topic = find_topic("Cramer's Rule")
        async with all_stages(settings), opened_gateway(settings) as client:
            body = {"configuration": {"topic": topic.topic, "context": topic.context}}
            job_id = (await client.post("/api/v1/videos/generate", json=body)).json()["job_id"]
            for _ in range(600):
                status = (await client.get(f"/api/v1/videos/jobs/{job_id}/status")).json()
                if status["status"] in ("completed", "failed"):
                    break
                await asyncio.sleep(0.2)
        assert status["status"] == "completed", status["error"]

    finished = spans.get_finished_spans()
    [request] = [
        s
        for s in finished
        if s.name == "POST /api/v1/videos/generate"
        and (s.attributes or {}).get("http.route") == "/api/v1/videos/generate"
        and s.parent is None
    ]
    in_trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    handled = {s.name for s in in_trace}
    for event_type in (
        "job.requested",
        "scene.planned",
        "scene.narrated",
        "scene.coded",
        "scene.rendered",
        "video.combined",
    ):
        assert f"videogen.*.{event_type} process" in handled, (event_type, sorted(handled))
    assert any(s.name.startswith("render") for s in in_trace), sorted(handled)
    assert all(job_id not in s.name for s in in_trace)  # span names stay bounded
