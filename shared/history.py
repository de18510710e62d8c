"""A job's recorded events, read back from the stream in publication order.

The one reader behind `/jobs/{id}/logs`, `/scenes` and `videogen events`/`replay`. It
uses a short-lived ephemeral consumer filtered to the job's subject, so a read costs the
job's own events, not the stream's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from nats.js import JetStreamContext
from nats.js import api as js_api

from shared import subjects
from shared.events import AnyEvent, decode

_FETCH_BATCH = 256
_FETCH_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Recorded:
    """One message of a job as the stream holds it; `event` is None when it is malformed."""

    sequence: int
    stored_at: datetime
    event_type: str
    event: AnyEvent | None


async def read_job(js: JetStreamContext, job_id: str) -> list[Recorded]:
    """Every message of one job, in stream order."""
    name = f"history-{uuid.uuid4().hex}"
    info = await js.add_consumer(
        subjects.STREAM,
        config=js_api.ConsumerConfig(
            name=name,
            filter_subject=subjects.events_of_job(job_id),
            deliver_policy=js_api.DeliverPolicy.ALL,
            ack_policy=js_api.AckPolicy.NONE,
            mem_storage=True,
            inactive_threshold=30.0,  # cleans up if this process dies mid-read
        ),
    )
    records: list[Recorded] = []
    try:
        subscription = await js.pull_subscribe_bind(durable=None, stream=subjects.STREAM, name=name)
        remaining = info.num_pending or 0
        while remaining > 0:
            messages = await subscription.fetch(
                min(remaining, _FETCH_BATCH), timeout=_FETCH_TIMEOUT_SECONDS
            )
            remaining -= len(messages)
            records.extend(_recorded(message) for message in messages)
        await subscription.unsubscribe()
    finally:
        await js.delete_consumer(subjects.STREAM, name)
    return records


def events_of(records: Iterable[Recorded]) -> list[AnyEvent]:
    """The well-formed events among `records`."""
    return [record.event for record in records if record.event is not None]


def _recorded(message: object) -> Recorded:
    meta = message.metadata  # type: ignore[attr-defined]
    try:
        event: AnyEvent | None = decode(message.data)  # type: ignore[attr-defined]
    except (msgspec.DecodeError, msgspec.ValidationError):
        event = None
    return Recorded(
        sequence=meta.sequence.stream,
        stored_at=meta.timestamp,
        event_type=subjects.event_type_of(message.subject),  # type: ignore[attr-defined]
        event=event,
    )
