"""How every stage receives and publishes events: acks, retries, progress, failure.

A stage handler is `async def handle(event) -> None`. `stage_subscriber` wraps it so
that, in one place and explicitly (FastStream's default ack policy would drop a message
whose handler raised):

- a malformed event is logged and terminated, never retried;
- work on a cancelled, failed or deleted job is skipped;
- a long handler keeps its message alive with in-progress acks;
- `TransientError` and unexpected errors are retried by nak with exponential backoff
  and jitter, until `max_deliver` deliveries; then the job fails with stage context;
- `PermanentError` terminates the message and fails the job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import msgspec
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage

from shared import subjects
from shared.broker import ConsumerSpec
from shared.errors import JobGone, PermanentError, StageError
from shared.events import (
    Event,
    JobContext,
    JobError,
    JobFailed,
    ProgressReported,
    decode,
    encode,
    revision_of,
    revision_suffix,
    superseded,
)
from shared.jobview import JobStore
from shared.logs import job_scope
from shared.metrics import observe_event
from shared.redact import redact_event
from shared.retry import backoff_delay
from shared.stages import BY_NAME, percentage_within
from shared.tracing import span

log = logging.getLogger("videogen.runtime")
PULL_WAIT_SECONDS = 5.0

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]


class Bus:
    """Publishes events on their job's subject, de-duplicated by their logical id."""

    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    async def publish(self, event: Event) -> None:
        """Publish `event`; failure text in it is scrubbed of secrets and host paths first."""
        event = redact_event(event)
        await self.broker.publish(
            encode(event),
            subjects.event_subject(event.job_id, event.type),
            headers={"Nats-Msg-Id": event.dedup_key()},
            stream=subjects.STREAM,
        )

    async def progress(
        self,
        source: Event,
        stage: str,
        *,
        fraction: float | None = None,
        scene: int | None = None,
        detail: str | None = None,
        revision: str = "",
    ) -> None:
        """Report that `source`'s job entered `stage` (or got `fraction` through it).

        `revision` tells a repeat of a stage for a new output (a replay) from a redelivery;
        the job's revision (`JobContext.revision`) is added to it, for the same reason.
        """
        revision = f"{revision}{revision_suffix(revision_of(source) or 1)}"
        percentage = (
            BY_NAME[stage].percentage if fraction is None else percentage_within(stage, fraction)
        )
        await self.publish(
            ProgressReported(
                job_id=source.job_id,
                user_id=source.user_id,
                stage=stage,
                percentage=percentage,
                description=BY_NAME[stage].description,
                scene=scene,
                detail=detail,
                revision=revision,
            )
        )

    async def fail(self, source: Event, stage: str, error: StageError, *, attempts: int) -> None:
        await self.publish(
            JobFailed(
                job_id=source.job_id,
                user_id=source.user_id,
                revision=revision_of(source) or 1,
                error=JobError(
                    code=error.code,
                    stage=error.stage or stage,
                    message=error.message,
                    recoverable=error.recoverable,
                    suggestion=error.suggestion,
                    attempts=error.attempts or attempts,
                    details=error.details,
                ),
            )
        )


@contextlib.asynccontextmanager
async def kept_alive(message: NatsMessage, *, every: float) -> AsyncIterator[None]:
    """Send in-progress acks while the block runs, so JetStream does not redeliver."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):
                await message.in_progress()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def decode_or_reject(body: bytes, expected: type[E] | None) -> E | None:
    """The event in `body`, or None when it is malformed or of another type."""
    try:
        event = decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.error("malformed event terminated", extra={"error": str(exc), "size": len(body)})
        return None
    if expected is not None and not isinstance(event, expected):
        log.error("unexpected event type terminated", extra={"event_type": event.type})
        return None
    return event  # type: ignore[return-value]


class StageRunner:
    """Runs one stage's handlers with the delivery rules above."""

    def __init__(
        self,
        *,
        stage_service: str,
        bus: Bus,
        jobs: JobStore,
        ack_wait_seconds: float,
        max_deliver: int,
        observe: Callable[..., None] = observe_event,
        inbox: str = subjects.inbox_of(""),
    ) -> None:
        self.service = stage_service
        self.bus = bus
        self.jobs = jobs
        self.heartbeat = max(ack_wait_seconds / 3, 0.5)
        self.max_deliver = max_deliver
        self.observe = observe
        # Pull replies arrive in this user's own inbox, which other users cannot read.
        self.inbox_prefix = f"{inbox}.".encode()
        self.consumers: list[str] = []  # durables subscribed, for the queue-depth gauges

    async def deliver(
        self,
        message: NatsMessage,
        expected: type[E],
        handler: Handler[E],
        *,
        stage: str,
        consumer: ConsumerSpec | None = None,
    ) -> None:
        event = decode_or_reject(message.body, expected)
        if event is None:
            self.observe(
                service=self.service, stage=stage, event_type=expected.type, outcome="rejected"
            )
            await message.reject()
            return
        if consumer is not None and not consumer.takes(lane_of(event)):
            await message.ack()  # the other lane's consumer takes it
            return
        attempt = message.raw_message.metadata.num_delivered or 1
        with job_scope(job_id=event.job_id, stage=stage, service=self.service):
            view = await self.jobs.get(event.user_id, event.job_id)
            if view is None or view.is_terminal or superseded(event, view.revision):
                log.info(
                    "skipping %s: job is %s (revision %d)",
                    event.type,
                    view.status if view else "gone",
                    view.revision if view else 0,
                )
                self.observe(
                    service=self.service, stage=stage, event_type=event.type, outcome="skipped"
                )
                await message.ack()
                return
            await self._run(message, event, handler, stage=stage, attempt=attempt)

    async def _run(
        self, message: NatsMessage, event: E, handler: Handler[E], *, stage: str, attempt: int
    ) -> None:
        started = time.perf_counter()
        outcome = "error"  # stays so only if acking or failing the job itself raised
        try:
            async with kept_alive(message, every=self.heartbeat):
                with span(event.type, stage=stage, job_id=event.job_id, attempt=attempt):
                    await handler(event)
        except JobGone:
            log.info("job stopped while handling %s", event.type)
            await message.ack()
            outcome = "stopped"
        except PermanentError as exc:
            log.error("%s failed permanently: %s", event.type, exc.message, exc_info=True)
            await self.bus.fail(event, stage, exc, attempts=attempt)
            await message.reject()
            outcome = "failed"
        except Exception as exc:
            outcome = await self._retry_or_fail(message, event, exc, stage=stage, attempt=attempt)
        else:
            await message.ack()
            outcome = "handled"
            log.debug(
                "%s handled",
                event.type,
                extra={"duration_seconds": round(time.perf_counter() - started, 3)},
            )
        finally:
            self.observe(
                service=self.service,
                stage=stage,
                event_type=event.type,
                outcome=outcome,
                seconds=time.perf_counter() - started,
            )

    async def _retry_or_fail(
        self, message: NatsMessage, event: Event, exc: Exception, *, stage: str, attempt: int
    ) -> str:
        """Nak for a later retry, or fail the job when deliveries are used up; the outcome."""
        error = exc if isinstance(exc, StageError) else _internal(exc)
        if attempt >= self.max_deliver:
            log.error("%s failed after %d attempts", event.type, attempt, exc_info=exc)
            await self.bus.fail(event, stage, error, attempts=attempt)
            await message.reject()
            return "failed"
        delay = backoff_delay(attempt)
        log.warning(
            "%s failed (attempt %d of %d), retrying in %.1fs: %s",
            event.type,
            attempt,
            self.max_deliver,
            delay,
            error.message,
            exc_info=exc,
        )
        await message.nack(delay=delay)
        return "retried"

    def subscribe(
        self,
        broker: NatsBroker,
        consumer: ConsumerSpec,
        expected: type[E],
        handler: Handler[E],
        *,
        stage: str,
        concurrency: int = 1,
    ) -> None:
        """Register `handler` on the consumer's durable, `concurrency` messages at a time.

        Each of the `concurrency` pullers fetches one message and handles it before the
        next fetch: nothing is prefetched that this replica cannot start (other replicas
        get the rest), and one slow message never holds up the others.
        """
        self.consumers.append(consumer.durable)
        for slot in range(concurrency):

            async def on_message(message: NatsMessage) -> None:
                await self.deliver(message, expected, handler, stage=stage, consumer=consumer)

            on_message.__name__ = f"{consumer.durable}_{expected.type.replace('.', '_')}_{slot}"
            broker.subscriber(
                consumer.filter_subject,
                stream=JStream(subjects.STREAM, declare=False),
                durable=consumer.durable,
                # A long-poll: a fetch returns when an event arrives. Long, because
                # FastStream's loop restarts (logging an error) when a deadline expires
                # inside nats-py, which raises a TimeoutError it does not catch.
                pull_sub=PullSub(batch_size=1, timeout=PULL_WAIT_SECONDS),
                ack_policy=AckPolicy.MANUAL,
                inbox_prefix=self.inbox_prefix,
            )(on_message)


def lane_of(event: Event) -> str | None:
    """The consumer lane an event belongs to: its job's priority decides."""
    context = getattr(event, "context", None)
    return context.lane if isinstance(context, JobContext) else None


def _internal(exc: Exception) -> StageError:
    return StageError(
        f"{type(exc).__name__}: {exc}",
        code="INTERNAL_ERROR",
        suggestion="This is a bug in videogen; retry the job, and report it if it persists.",
    )
