"""OpenTelemetry tracing: one trace per job request, across every stage.

FastStream's NATS telemetry middleware carries the trace context in message headers, so
a planner's, coder's and renderer's spans join the trace the gateway's HTTP request
started. Its stock span names contain the message subject, which here carries the job
id; `EventTelemetryMiddleware` names spans after the subject's event type instead
(`videogen.*.scene.coded process`), so span names stay a bounded set.

Export is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set; then spans go over OTLP/HTTP.
Without a configured provider the OpenTelemetry API is a no-op, so instrumented code
costs next to nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from faststream.nats.opentelemetry.provider import (
    NatsBatchTelemetrySettingsProvider,
    NatsTelemetrySettingsProvider,
)
from faststream.nats.response import NatsPublishCommand
from faststream.opentelemetry.middleware import TelemetryMiddleware
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.trace import Span, TracerProvider

from shared import subjects

TRACER_NAME = "videogen"


def bounded_destination(subject: str) -> str:
    """`videogen.<job>.scene.coded` → `videogen.*.scene.coded`; other subjects unchanged."""
    if subject.startswith(f"{subjects.PREFIX}.") and subject.count(".") >= 2:
        return subjects.events_of_type(subjects.event_type_of(subject))
    return subject


class _ByEventType(NatsTelemetrySettingsProvider):
    def get_publish_destination_name(self, cmd: Any) -> str:
        return bounded_destination(super().get_publish_destination_name(cmd))

    def get_consume_destination_name(self, msg: Any) -> str:
        return bounded_destination(super().get_consume_destination_name(msg))


class _BatchByEventType(NatsBatchTelemetrySettingsProvider):
    def get_publish_destination_name(self, cmd: Any) -> str:
        return bounded_destination(super().get_publish_destination_name(cmd))

    def get_consume_destination_name(self, msg: Any) -> str:
        return bounded_destination(super().get_consume_destination_name(msg))


def _provider_for(
    msg: Msg | Sequence[Msg] | None,
) -> NatsTelemetrySettingsProvider | NatsBatchTelemetrySettingsProvider | None:
    if isinstance(msg, Sequence):
        return _BatchByEventType()
    if msg is None or isinstance(msg, Msg):
        return _ByEventType()
    return None  # KV and object store watches: not events, not traced


class EventTelemetryMiddleware(TelemetryMiddleware[NatsPublishCommand]):
    """`NatsTelemetryMiddleware` with span names by event type, never by job."""

    def __init__(self, *, tracer_provider: TracerProvider | None = None) -> None:
        super().__init__(
            settings_provider_factory=_provider_for,
            tracer_provider=tracer_provider,
            include_messages_counters=False,
        )


def configure_tracing(service: str, *, otlp_endpoint: str) -> TracerProvider | None:
    """Install an exporting tracer provider for this process when an endpoint is set.

    `otlp_endpoint` is the collector's base URL (e.g. `http://otel-collector:4318`), as
    in OpenTelemetry's own `OTEL_EXPORTER_OTLP_ENDPOINT`. Call once, at start-up.
    """
    if not otlp_endpoint:
        return None
    # Imported here: the SDK and exporter load only in processes that export.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = otlp_endpoint.rstrip("/")
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    provider = SdkTracerProvider(resource=Resource.create({SERVICE_NAME: f"videogen-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def instrument_app(app: Any) -> None:
    """Trace a FastAPI app's requests (span names are route templates, so bounded).

    Probes and scrapes are left out: they would be most of the traces and say nothing.
    """
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/ready,/metrics")


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span]:
    """A span around a piece of work. `name` must be bounded (an event type, `render`);
    ids belong in attributes. Attributes that are None are left out."""
    tracer = trace.get_tracer(TRACER_NAME)
    present = {f"videogen.{key}": value for key, value in attributes.items() if value is not None}
    with tracer.start_as_current_span(name, attributes=present) as current:
        yield current
