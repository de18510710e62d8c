"""Stage metrics on a real nats-server: StageRunner counts outcomes, `/metrics` serves them
with bounded labels, and the probes answer."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from wsgiref.simple_server import WSGIServer

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shared.errors import PermanentError
from shared.events import SceneRenderFailed
from shared.llm.metrics import observed_llm_call
from shared.metrics import (
    observed_render,
    start_metrics_server,
    watch_pending,
)
from shared.service import StageDeps, connected
from shared.settings import Settings
from tests.integration.onejob import consume, forget_jobs, new_job

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[StageDeps]:
    # A service name of its own, so this test's counters start from nothing.
    async with connected(f"metrics{uuid.uuid4().hex[:6]}", settings) as stage:
        yield stage
        await forget_jobs(stage)


@pytest.fixture
def server(deps: StageDeps) -> Iterator[WSGIServer]:
    running = start_metrics_server(0, ready=lambda: deps.connection.is_connected, host="127.0.0.1")
    yield running
    running.shutdown()
    running.server_close()


def _scrape(server: WSGIServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _eventually(check, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "metric did not move"
        await asyncio.sleep(0.1)


async def test_stage_events_are_counted_timed_and_served(deps: StageDeps, server: WSGIServer):
    handled = await new_job(deps)
    broken = await new_job(deps)
    cancelled = await new_job(deps, status="cancelled")

    async def fine(event: SceneRenderFailed) -> None:
        pass

    async def fails(event: SceneRenderFailed) -> None:
        raise PermanentError("cannot", code="RENDER_FAILED")

    await consume(deps, handled, fine)
    await consume(deps, broken, fails)
    skipped_spec = await consume(deps, cancelled, fine)
    await deps.broker.start()
    for event in (handled, broken, cancelled):
        await deps.bus.publish(event)

    service, kind = deps.name, SceneRenderFailed.type
    labels = {"service": service, "event_type": kind}
    await _eventually(
        lambda: all(
            _value(_scrape(server), "videogen_events_total", **labels, outcome=outcome) == 1
            for outcome in ("handled", "failed", "skipped")
        )
    )
    samples = _scrape(server)
    count = _value(
        samples,
        "videogen_stage_duration_seconds_count",
        service=service,
        stage="rendering",
        event_type=kind,
        outcome="handled",
    )
    assert count == 1

    depth = asyncio.create_task(watch_pending(deps.js, [skipped_spec.durable], every=0.1))
    await _eventually(
        lambda: (
            (
                "videogen_consumer_pending_messages",
                (("consumer", skipped_spec.durable),),
            )
            in _scrape(server)
        )
    )
    depth.cancel()

    job_ids = {handled.job_id, broken.job_id, cancelled.job_id}
    for _name, labels_of_sample in _scrape(server):
        for _label, value in labels_of_sample:
            assert not UUID.search(value), value
            assert not any(job_id in value for job_id in job_ids), value
            assert not value.startswith("videogen."), value  # a concrete subject


async def test_probes_answer(deps: StageDeps, server: WSGIServer):
    base = f"http://127.0.0.1:{server.server_port}"
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{base}/healthz")).status_code == 200
        assert (await client.get(f"{base}/readyz")).status_code == 200


def test_render_and_llm_helpers_label_by_outcome():
    class Timeout(Exception):
        kind = "timeout"

    with pytest.raises(Timeout), observed_render(quality="metrics-test"):
        raise Timeout
    with observed_llm_call(model="metrics-test-model", purpose="plan") as call:
        call.prompt_tokens, call.completion_tokens = 120, 30
    assert (
        REGISTRY.get_sample_value(
            "videogen_renders_total", {"quality": "metrics-test", "outcome": "timeout"}
        )
        == 1
    )
    assert (
        REGISTRY.get_sample_value(
            "videogen_llm_tokens_total", {"model": "metrics-test-model", "kind": "prompt"}
        )
        == 120
    )
    assert (
        REGISTRY.get_sample_value(
            "videogen_llm_calls_total",
            {"model": "metrics-test-model", "purpose": "plan", "outcome": "ok"},
        )
        == 1
    )
