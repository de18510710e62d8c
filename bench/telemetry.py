"""What tracing and metrics cost a stage: events/s through a StageRunner, off versus on.

Each measurement gets a fresh nats-server and the same work: publish N events through
the bus, then let one StageRunner subscriber (one message at a time, as the planner
runs) take them all. Three modes:

- "off": a broker without the telemetry middleware, no tracer provider, and a runner
  that records no metrics;
- "default": what a service runs with no `OTEL_EXPORTER_OTLP_ENDPOINT`: the middleware
  and Prometheus metrics, with OpenTelemetry's no-op tracer;
- "on": the same with an SDK tracer provider and a batch span processor (its exporter
  drops spans, so no collector's network time is counted), as with an endpoint set.
 OpenTelemetry's provider can be set only once per process,
so each measurement runs in its own process, off and on alternating, and the best of
each counts (the machine is shared; the best run is the least disturbed one).

`python -m bench.telemetry` prints the result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from shared import subjects
from shared.broker import ConsumerSpec, consumer_config, ensure_topology, make_broker
from shared.events import JobConfig, JobContext, RenderError, SceneRenderFailed
from shared.jobview import JobStore, JobView
from shared.metrics import observe_event
from shared.runtime import Bus, StageRunner
from shared.settings import load_settings
from videogen.natsd import running_nats_server

EVENTS = 1000
ROUNDS = 2
MODES = ("off", "default", "on")
WARM_UP_EVENTS = 200
SPEC = ConsumerSpec("bench", SceneRenderFailed.type)


class _Dropped(SpanExporter):
    """Accepts spans and sends them nowhere: the SDK's work is measured, not a network."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _ignore(**_: Any) -> None:
    """The 'off' runner's metrics."""


async def _measure(folder: Path, *, events: int, instrumented: bool) -> dict[str, float]:
    with running_nats_server(folder) as server:
        settings = load_settings({}, nats_url=server.url, data_dir=folder / "data")
        broker = make_broker(settings, name="bench", traced=instrumented)
        await broker.connect()
        try:
            js = broker.connection.jetstream()
            await ensure_topology(js, settings)
            await js.add_consumer(subjects.STREAM, config=consumer_config(SPEC, settings))
            bus = Bus(broker)
            jobs = JobStore(await js.key_value(subjects.JOBS_BUCKET))
            runner = StageRunner(
                stage_service="bench",
                bus=bus,
                jobs=jobs,
                ack_wait_seconds=30.0,
                max_deliver=5,
                observe=observe_event if instrumented else _ignore,
            )
            await jobs.create(
                JobView(
                    job_id="bench-job", user_id="bench", config=JobConfig(topic="t", context="c")
                )
            )
            done = asyncio.Event()
            handled = 0

            async def handler(event: SceneRenderFailed) -> None:
                nonlocal handled
                handled += 1
                if handled == events:
                    done.set()

            runner.subscribe(broker, SPEC, SceneRenderFailed, handler, stage="rendering")
            started = time.perf_counter()
            for number in range(1, events + 1):
                await bus.publish(_event(number))
            published = time.perf_counter() - started
            started = time.perf_counter()
            await broker.start()
            await asyncio.wait_for(done.wait(), 120)
            consumed = time.perf_counter() - started
        finally:
            await broker.stop()
    return {
        "publish_per_second": round(events / published, 1),
        "handle_per_second": round(events / consumed, 1),
    }


def _event(number: int) -> SceneRenderFailed:
    return SceneRenderFailed(
        job_id="bench-job",
        user_id="bench",
        context=JobContext(quality="low", scene_model="builtin"),
        scene_number=number,
        scene_count=EVENTS,
        attempt=1,
        class_name="S",
        code_ref="c",
        plan_ref="p",
        error=RenderError(kind="crash", message="bench"),
    )


def _overhead(off: float, on: float) -> float:
    """Percent of throughput lost by turning telemetry on."""
    return round(100 * (off - on) / off, 1)


async def _measure_here(mode: str) -> dict[str, float]:
    instrumented = mode != "off"
    if mode == "on":
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(_Dropped()))
        trace.set_tracer_provider(provider)
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as folder:
        root = Path(folder)
        await _measure(root / "warm-up", events=WARM_UP_EVENTS, instrumented=instrumented)
        return await _measure(root / "measured", events=EVENTS, instrumented=instrumented)


def _measure_in_child(mode: str) -> dict[str, float]:
    printed = subprocess.run(
        [sys.executable, "-m", "bench.telemetry", "--measure", mode],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    return json.loads(printed)


def run() -> dict[str, Any]:
    """Events/s through a StageRunner per telemetry mode (best of `ROUNDS` each)."""
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for _ in range(ROUNDS):
        for mode in results:
            results[mode].append(_measure_in_child(mode))
    best = {
        mode: {key: max(run[key] for run in runs) for key in runs[0]}
        for mode, runs in results.items()
    }
    return {
        "events": EVENTS,
        "rounds": ROUNDS,
        **best,
        "overhead_percent": {
            mode: {key: _overhead(best["off"][key], best[mode][key]) for key in best["off"]}
            for mode in MODES[1:]
        },
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        one = asyncio.run(_measure_here(sys.argv[2]))
        print(json.dumps(one))
    else:
        print(json.dumps(run(), indent=2))
