"""Broker wiring and the JetStream topology every service relies on.

`ensure_topology` declares the event stream, each stage's durable consumer, the KV
buckets and the artifact object store. It is idempotent and brings existing objects up
to date, because JetStream keeps an old consumer config when a worker restarts with a
new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import nats
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BucketNotFoundError, NotFoundError

from shared import subjects
from shared.settings import Settings
from shared.tracing import EventTelemetryMiddleware

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
DUPLICATE_WINDOW_SECONDS = 600.0


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: one per stage and event type, shared by all replicas."""

    durable: str
    event_type: str | None  # None: every event (the gateway's projector)

    @property
    def filter_subject(self) -> str:
        if self.event_type is None:
            return subjects.ALL_EVENTS
        return subjects.events_of_type(self.event_type)


CONSUMERS: dict[str, ConsumerSpec] = {
    spec.durable: spec
    for spec in (
        ConsumerSpec("planner", "job.requested"),
        ConsumerSpec("coder", "scene.planned"),
        ConsumerSpec("coder-repair", "scene.render_failed"),
        ConsumerSpec("coder-critique", "scene.rendered"),
        ConsumerSpec("renderer", "scene.coded"),
        ConsumerSpec("renderer-combine", "scene.rendered"),
        ConsumerSpec("storage", "video.combined"),
        ConsumerSpec("gateway", None),
    )
}


def make_broker(settings: Settings, *, name: str, traced: bool = True) -> NatsBroker:
    """A FastStream broker for one service; handlers decode events themselves.

    The telemetry middleware puts the trace context in every message's headers
    (`traced=False` leaves it out, to measure what it costs).
    """
    return NatsBroker(
        settings.nats_url,
        name=f"videogen-{name}",
        max_reconnect_attempts=-1,
        middlewares=[EventTelemetryMiddleware()] if traced else [],
        logger=logging.getLogger(f"videogen.{name}.broker"),
        log_level=logging.DEBUG,
    )


async def connect(settings: Settings) -> Client:
    """A plain nats-py connection, for tools that need no subscribers (CLI, tests)."""
    return await nats.connect(settings.nats_url, max_reconnect_attempts=-1)


def stream_config(settings: Settings) -> js_api.StreamConfig:
    return js_api.StreamConfig(
        name=subjects.STREAM,
        subjects=[subjects.ALL_EVENTS],
        retention=js_api.RetentionPolicy.LIMITS,
        storage=js_api.StorageType.FILE,
        max_age=settings.event_retention_days * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        discard=js_api.DiscardPolicy.OLD,
    )


def consumer_config(spec: ConsumerSpec, settings: Settings) -> js_api.ConsumerConfig:
    return js_api.ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        description=f"videogen {spec.durable}",
        filter_subject=spec.filter_subject,
        ack_policy=js_api.AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait_seconds,
        # The projector must never give up on an event; stages fail the job instead.
        max_deliver=-1 if spec.event_type is None else settings.max_deliver,
        max_ack_pending=1000,
        deliver_policy=js_api.DeliverPolicy.ALL,
    )


async def ensure_topology(js: JetStreamContext, settings: Settings) -> None:
    """Create or update the stream, consumers, KV buckets and object store."""
    config = stream_config(settings)
    try:
        await js.stream_info(subjects.STREAM)
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)
    for spec in CONSUMERS.values():
        await _ensure_consumer(js, spec, settings)
    await _ensure_bucket(js, subjects.JOBS_BUCKET, ttl=settings.event_retention_days * DAY)
    await _ensure_bucket(js, subjects.IDEMPOTENCY_BUCKET, ttl=DAY)
    await _ensure_bucket(js, subjects.LEDGER_BUCKET, ttl=settings.event_retention_days * DAY)
    try:
        await js.object_store(subjects.ARTIFACTS_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        await js.create_object_store(
            subjects.ARTIFACTS_BUCKET,
            config=js_api.ObjectStoreConfig(
                ttl=settings.event_retention_days * DAY, storage=js_api.StorageType.FILE
            ),
        )


async def _ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, settings: Settings) -> None:
    wanted = consumer_config(spec, settings)
    try:
        current = (await js.consumer_info(subjects.STREAM, spec.durable)).config
    except NotFoundError:
        await js.add_consumer(subjects.STREAM, config=wanted)
        return
    if (current.ack_wait, current.max_deliver, current.filter_subject) != (
        wanted.ack_wait,
        wanted.max_deliver,
        wanted.filter_subject,
    ):
        log.info("updating consumer %s to the current settings", spec.durable)
        await js.add_consumer(subjects.STREAM, config=wanted)


async def _ensure_bucket(js: JetStreamContext, bucket: str, *, ttl: float) -> None:
    try:
        await js.key_value(bucket)
    except (BucketNotFoundError, NotFoundError):
        await js.create_key_value(
            config=js_api.KeyValueConfig(
                bucket=bucket, history=1, ttl=ttl, storage=js_api.StorageType.FILE
            )
        )
