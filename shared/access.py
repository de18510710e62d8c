"""Who may do what on the bus: one row per NATS user, and the permissions derived from it.

Each service connects as its own user (`NATS_USER`, the service's name) and the server
lets it publish and subscribe only to what its row names: the event types it emits, its
durable consumers, the buckets it reads or writes, and replies to its own inbox. Every
name comes from `shared.subjects` and `shared.broker.CONSUMERS`; the NATS and JetStream
protocol subjects they map to (`$JS.API.…`, `$KV.…`, `$O.…`) are spelled only here.

The gateway is the control plane: it declares the topology (stream, consumers, buckets)
and writes job views; stages only read them. `cli` is the operator's user for
`videogen events` and `videogen replay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared import subjects
from shared.broker import CONSUMERS
from shared.events import (
    JobCancelled,
    JobFailed,
    JobRequested,
    ProgressReported,
    RevisionPlanned,
    SceneAbandoned,
    SceneCoded,
    SceneCritiqued,
    SceneNarrated,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    SliceRequested,
    UsageRecorded,
    VideoCombined,
    VideoStored,
)
from shared.settings import SERVICES

API = "$JS.API"
# The inputs of a stage: what a replay (CLI or REST) publishes again.
STAGE_INPUTS = tuple(
    dict.fromkeys(spec.event_type for spec in CONSUMERS.values() if spec.event_type)
)
_EVERY_STAGE = (ProgressReported.type, JobFailed.type)


def _durables(service: str) -> tuple[str, ...]:
    """A service's durables: those named after it (`coder`, `coder-repair`, …)."""
    return tuple(durable for durable in CONSUMERS if durable.split("-")[0] == service)


@dataclass(frozen=True)
class Access:
    """What one NATS user may touch; everything else is denied by the server."""

    publishes: tuple[str, ...] = ()  # event types it emits
    consumes: tuple[str, ...] = ()  # durable consumers it pulls from
    listens: tuple[str, ...] = ()  # event types it hears on a plain subscription
    reads: tuple[str, ...] = ()  # KV buckets and object stores it reads
    writes: tuple[str, ...] = ()  # … and writes (implies read)
    reads_history: bool = False  # ephemeral consumers over the stream (logs, replay)
    inspects: bool = False  # info of every durable (queue depth)
    declares: bool = False  # creates and updates the stream, consumers and buckets


ACCESS: dict[str, Access] = {
    "planner": Access(
        publishes=(*_EVERY_STAGE, UsageRecorded.type, ScenePlanned.type, RevisionPlanned.type),
        consumes=_durables("planner"),
        reads=(subjects.JOBS_BUCKET,),
        writes=(subjects.ARTIFACTS_BUCKET,),
    ),
    "narrator": Access(
        publishes=(*_EVERY_STAGE, SceneNarrated.type),
        consumes=_durables("narrator"),
        reads=(subjects.JOBS_BUCKET,),
        writes=(subjects.ARTIFACTS_BUCKET,),
    ),
    "coder": Access(
        publishes=(
            *_EVERY_STAGE,
            UsageRecorded.type,
            SceneCoded.type,
            SceneAbandoned.type,
            SceneCritiqued.type,
        ),
        consumes=_durables("coder"),
        reads=(subjects.JOBS_BUCKET,),
        writes=(subjects.ARTIFACTS_BUCKET,),
    ),
    "renderer": Access(
        publishes=(
            *_EVERY_STAGE,
            SceneRendered.type,
            SceneRenderFailed.type,
            SceneAbandoned.type,
            VideoCombined.type,
            SliceRequested.type,
        ),
        consumes=_durables("renderer"),
        listens=(JobCancelled.type,),
        reads=(subjects.JOBS_BUCKET,),
        writes=(subjects.ARTIFACTS_BUCKET, subjects.LEDGER_BUCKET, subjects.CONDITIONS_BUCKET),
    ),
    "storage": Access(
        publishes=(*_EVERY_STAGE, VideoStored.type),
        consumes=_durables("storage"),
        reads=(subjects.JOBS_BUCKET,),
        writes=(subjects.ARTIFACTS_BUCKET, subjects.CONDITIONS_BUCKET),
    ),
    "gateway": Access(
        publishes=(*_EVERY_STAGE, JobRequested.type, JobCancelled.type, *STAGE_INPUTS),
        consumes=_durables("gateway"),
        reads=(subjects.CONDITIONS_BUCKET,),
        writes=(
            subjects.JOBS_BUCKET,
            subjects.IDEMPOTENCY_BUCKET,
            subjects.ARTIFACTS_BUCKET,
            subjects.WEBHOOKS_BUCKET,
        ),
        reads_history=True,
        inspects=True,
        declares=True,
    ),
    "cli": Access(
        publishes=(*_EVERY_STAGE, *STAGE_INPUTS),
        writes=(subjects.JOBS_BUCKET,),
        reads_history=True,
        inspects=True,
    ),
}
SERVICE_USERS = SERVICES  # each service connects as the user of its name
OPERATOR = "cli"


def _bucket_reads(bucket: str) -> list[str]:
    stream = subjects.bucket_stream(bucket)
    return [
        f"{API}.STREAM.INFO.{stream}",
        f"{API}.STREAM.MSG.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}.>",
        # Watches and object reads use short-lived ordered consumers.
        f"{API}.CONSUMER.CREATE.{stream}",
        f"{API}.CONSUMER.CREATE.{stream}.>",
        f"{API}.CONSUMER.INFO.{stream}.*",
        f"{API}.CONSUMER.DELETE.{stream}.*",
        f"$JS.FC.{stream}.>",
        f"{API}.STREAM.NAMES",  # an object read looks its stream up by subject
    ]


def _bucket_writes(bucket: str) -> list[str]:
    # An object store purges an object's old chunks when it is replaced.
    return [
        subjects.bucket_subjects(bucket),
        f"{API}.STREAM.PURGE.{subjects.bucket_stream(bucket)}",
    ]


def permissions(user: str) -> dict[str, Any]:
    """The server's `permissions` block for `user`: what it may publish and subscribe."""
    access = ACCESS[user]
    publish = [subjects.events_of_type(kind) for kind in access.publishes]
    publish += _stream_rights(access)
    for bucket in dict.fromkeys((*access.reads, *access.writes)):
        publish += _bucket_reads(bucket)
    for bucket in access.writes:
        publish += _bucket_writes(bucket)
    if access.declares:
        publish += _declare_rights()
    # The gateway's projector and history reads pull through nats-py's default inbox;
    # they may read every event anyway. A stage hears replies in its own inbox only.
    inbox = subjects.inbox_of("" if access.reads_history else user)
    subscribe = [f"{inbox}.>", *(subjects.events_of_type(kind) for kind in access.listens)]
    return {"publish": {"allow": list(dict.fromkeys(publish))}, "subscribe": {"allow": subscribe}}


def _stream_rights(access: Access) -> list[str]:
    """JetStream API calls on the event stream: its info, own durables, history reads."""
    stream = subjects.STREAM
    rights = [f"{API}.STREAM.INFO.{stream}"]
    for durable in access.consumes:
        rights += [
            f"{API}.CONSUMER.INFO.{stream}.{durable}",
            f"{API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    if access.inspects:
        rights += [f"{API}.CONSUMER.INFO.{stream}.{durable}" for durable in CONSUMERS]
    if access.reads_history:  # short-lived consumers filtered to one job (shared/history.py)
        rights += [
            f"{API}.CONSUMER.CREATE.{stream}.*.{subjects.events_of_job('*')}",
            f"{API}.CONSUMER.MSG.NEXT.{stream}.*",
            f"{API}.CONSUMER.INFO.{stream}.*",
            f"{API}.CONSUMER.DELETE.{stream}.*",
        ]
    return rights


def _declare_rights() -> list[str]:
    """Create and update the stream, every bucket and every durable (with its filter)."""
    rights = [
        f"{API}.STREAM.{action}.{name}"
        for name in (subjects.STREAM, *map(subjects.bucket_stream, subjects.BUCKETS))
        for action in ("CREATE", "UPDATE", "INFO")
    ]
    rights += [
        f"{API}.CONSUMER.CREATE.{subjects.STREAM}.{spec.durable}.{spec.filter_subject}"
        for spec in CONSUMERS.values()
    ]
    return rights + [f"{API}.CONSUMER.INFO.{subjects.STREAM}.{durable}" for durable in CONSUMERS]
