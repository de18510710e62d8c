"""Broker wiring and the JetStream topology every service relies on.

`ensure_topology` declares the event stream, each stage's durable consumer, the KV
buckets and the artifact object store. It is idempotent and brings existing objects up
to date, because JetStream keeps an old consumer config when a worker restarts with a
new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nats
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BucketNotFoundError, NotFoundError

from shared import subjects
from shared.events import PRIORITY_LANE
from shared.settings import Settings
from shared.tracing import EventTelemetryMiddleware

log = logging.getLogger(__name__)

DAY = 24 * 3600.0
ANY_LANE = "any"  # a consumer of a stage without lanes: it takes every job's work
DUPLICATE_WINDOW_SECONDS = 600.0


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: one per stage and event type, shared by all replicas."""

    durable: str
    event_type: str | None  # None: every event (the gateway's projector)
    # Events of high and urgent jobs go to the lane `events.PRIORITY_LANE`, the rest to
    # None. A stage with lanes has one consumer per lane, and each acks the other lane's
    # events untouched (every event reaches both, and each takes its own); a stage without
    # lanes has one consumer for `ANY_LANE`, which takes every event.
    lane: str | None = ANY_LANE

    def takes(self, lane: str | None) -> bool:
        """Whether this consumer handles work of `lane` (else its twin does)."""
        return self.lane == ANY_LANE or self.lane == lane

    @property
    def filter_subject(self) -> str:
        if self.event_type is None:
            return subjects.ALL_EVENTS
        return subjects.events_of_type(self.event_type)


CONSUMERS: dict[str, ConsumerSpec] = {
    spec.durable: spec
    for spec in (
        ConsumerSpec("planner", "job.requested", lane=None),
        ConsumerSpec("planner-priority", subjects.JOB_REQUESTED, lane=PRIORITY_LANE),
        ConsumerSpec("narrator", subjects.SCENE_PLANNED, lane=None),
        ConsumerSpec("narrator-priority", subjects.SCENE_PLANNED, lane=PRIORITY_LANE),
        ConsumerSpec("coder", "scene.planned", lane=None),
        ConsumerSpec("coder-priority", subjects.SCENE_PLANNED, lane=PRIORITY_LANE),
        ConsumerSpec("coder-narrated", subjects.SCENE_NARRATED, lane=None),
        ConsumerSpec("coder-narrated-priority", subjects.SCENE_NARRATED, lane=PRIORITY_LANE),
        ConsumerSpec("coder-repair", "scene.render_failed"),
        ConsumerSpec("coder-critique", "scene.rendered"),
        ConsumerSpec("renderer", "scene.coded"),
        ConsumerSpec("renderer-slices", subjects.SCENE_SLICE_REQUESTED),
        ConsumerSpec("renderer-combine", "scene.rendered"),
        ConsumerSpec("renderer-abandoned", subjects.SCENE_ABANDONED),
        ConsumerSpec("planner-revision", subjects.JOB_REVISION_REQUESTED, lane=None),
        ConsumerSpec(
            "planner-revision-priority", subjects.JOB_REVISION_REQUESTED, lane=PRIORITY_LANE
        ),
        ConsumerSpec("renderer-revision", subjects.REVISION_PLANNED, lane=None),
        ConsumerSpec("renderer-revision-priority", subjects.REVISION_PLANNED, lane=PRIORITY_LANE),
        ConsumerSpec("storage", "video.combined"),
        ConsumerSpec("gateway", None),
    )
}


def make_broker(settings: Settings, *, name: str, traced: bool = True) -> NatsBroker:
    """A FastStream broker for one service; handlers decode events themselves.

    The telemetry middleware puts the trace context in every message's headers
    (`traced=False` leaves it out, to measure what it costs).
    """
    security = (
        SASLPlaintext(username=settings.nats_user, password=settings.nats_password.reveal())
        if settings.nats_user
        else None
    )
    return NatsBroker(
        settings.nats_servers,
        name=f"videogen-{name}",
        max_reconnect_attempts=-1,
        inbox_prefix=subjects.inbox_of(settings.nats_user),
        security=security,
        middlewares=[EventTelemetryMiddleware()] if traced else [],
        logger=logging.getLogger(f"videogen.{name}.broker"),
        log_level=logging.DEBUG,
    )


def connect_options(settings: Settings) -> dict[str, Any]:
    """nats-py `connect` arguments: the servers, this user's credentials and inbox."""
    options: dict[str, Any] = {
        "servers": settings.nats_servers,
        "max_reconnect_attempts": -1,
        "inbox_prefix": subjects.inbox_of(settings.nats_user),
    }
    if settings.nats_user:
        options |= {"user": settings.nats_user, "password": settings.nats_password.reveal()}
    return options


async def connect(settings: Settings, **options: Any) -> Client:
    """A plain nats-py connection, for tools that need no subscribers (CLI, tests)."""
    return await nats.connect(**(connect_options(settings) | options))


def stream_config(settings: Settings) -> js_api.StreamConfig:
    return js_api.StreamConfig(
        name=subjects.STREAM,
        subjects=[subjects.ALL_EVENTS],
        retention=js_api.RetentionPolicy.LIMITS,
        storage=js_api.StorageType.FILE,
        max_age=settings.event_retention_days * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        discard=js_api.DiscardPolicy.OLD,
        num_replicas=settings.jetstream_replicas,
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
        # Explicit: a durable keeps its replicas when its stream's change.
        num_replicas=settings.jetstream_replicas,
    )


async def ensure_topology(js: JetStreamContext, settings: Settings) -> None:
    """Create or update the stream, consumers, KV buckets and object store."""
    config = stream_config(settings)
    try:
        await js.stream_info(subjects.STREAM)
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)
    await _wait_for_peers(js, subjects.STREAM, settings.jetstream_replicas)
    for spec in CONSUMERS.values():
        await _ensure_consumer(js, spec, settings)
    replicas = settings.jetstream_replicas
    retention = settings.event_retention_days * DAY
    await _ensure_bucket(js, subjects.JOBS_BUCKET, ttl=retention, replicas=replicas)
    await _ensure_bucket(js, subjects.IDEMPOTENCY_BUCKET, ttl=DAY, replicas=replicas)
    await _ensure_bucket(js, subjects.LEDGER_BUCKET, ttl=retention, replicas=replicas)
    # A day longer than the views, so a view never outlives the record of its webhook.
    webhooks_ttl = retention + DAY
    await _ensure_bucket(js, subjects.WEBHOOKS_BUCKET, ttl=webhooks_ttl, replicas=replicas)
    await _ensure_bucket(js, subjects.CONDITIONS_BUCKET, ttl=DAY, replicas=replicas)
    try:
        await js.object_store(subjects.ARTIFACTS_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        await js.create_object_store(
            subjects.ARTIFACTS_BUCKET,
            config=js_api.ObjectStoreConfig(
                ttl=retention, storage=js_api.StorageType.FILE, replicas=replicas
            ),
        )
    else:
        await _ensure_replicas(js, subjects.bucket_stream(subjects.ARTIFACTS_BUCKET), replicas)


async def wait_for_topology(
    js: JetStreamContext, durables: Iterable[str], buckets: Iterable[str], *, every: float = 1.0
) -> None:
    """Wait until the stream, `durables` and `buckets` exist.

    A stage may not declare them (shared/access.py: only the gateway does), so a stage
    that starts first waits for the gateway instead of failing.
    """
    waiting = False
    while True:
        try:
            await js.stream_info(subjects.STREAM)
            for durable in durables:
                await js.consumer_info(subjects.STREAM, durable)
            for bucket in buckets:
                if bucket in subjects.OBJECT_STORES:
                    await js.object_store(bucket)
                else:
                    await js.key_value(bucket)
            return
        except (BucketNotFoundError, NotFoundError) as exc:
            if not waiting:
                log.info(
                    "waiting for the gateway to declare the bus topology (%s)", type(exc).__name__
                )
                waiting = True
            await asyncio.sleep(every)


async def _ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, settings: Settings) -> None:
    wanted = consumer_config(spec, settings)
    try:
        current = (await js.consumer_info(subjects.STREAM, spec.durable)).config
    except NotFoundError:
        await js.add_consumer(subjects.STREAM, config=wanted)
        return
    if (
        current.ack_wait,
        current.max_deliver,
        current.filter_subject,
        current.num_replicas or 1,
    ) != (
        wanted.ack_wait,
        wanted.max_deliver,
        wanted.filter_subject,
        wanted.num_replicas,
    ):
        log.info("updating consumer %s to the current settings", spec.durable)
        await js.add_consumer(subjects.STREAM, config=wanted)


async def _ensure_bucket(js: JetStreamContext, bucket: str, *, ttl: float, replicas: int) -> None:
    try:
        await js.key_value(bucket)
    except (BucketNotFoundError, NotFoundError):
        await js.create_key_value(
            config=js_api.KeyValueConfig(
                bucket=bucket,
                history=1,
                ttl=ttl,
                storage=js_api.StorageType.FILE,
                replicas=replicas,
            )
        )
    else:
        await _ensure_replicas(js, subjects.bucket_stream(bucket), replicas)


async def _wait_for_peers(
    js: JetStreamContext, stream: str, replicas: int, *, timeout: float = 60.0
) -> None:
    """A stream's new replicas are placed after `update_stream` returns; its durables may
    not have more replicas than it has peers yet."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        cluster = (await js.stream_info(stream)).cluster
        peers = 1 + len((cluster.replicas or []) if cluster else [])
        if peers >= replicas or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.2)


async def _ensure_replicas(js: JetStreamContext, stream: str, replicas: int) -> None:
    """Bring a bucket's backing stream to JETSTREAM_REPLICAS (KV and object stores have
    no update call of their own)."""
    config = (await js.stream_info(stream)).config
    if config.num_replicas != replicas:
        log.info("changing %s to %d replicas", stream, replicas)
        config.num_replicas = replicas
        await js.update_stream(config)
