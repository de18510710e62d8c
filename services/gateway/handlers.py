"""The projector: every event on the bus → the job view (JetStream KV).

Unlike a stage it does not skip terminal jobs (`apply` ignores what they no longer
take) and never gives up on an event: a failed projection is retried with a growing
delay. Replicas share the durable consumer, so each event is projected once.

It pulls batches and applies them one by one in stream order: folded shuffled, a backlog
would lose history (`job.failed` overtaking the render failure just before it hides that
failure for good, since terminal views take nothing more). The pull loop is written here
on nats-py rather than as a FastStream batch subscriber: FastStream's loop catches only
`nats.errors.TimeoutError`, while a fetch whose deadline runs out raises the plain
`TimeoutError`, which kills the loop and strands a half-fetched batch until `ack_wait`,
out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from services.gateway.projection import apply
from shared import subjects
from shared.broker import CONSUMERS
from shared.jobview import JobStore, JobView
from shared.metrics import JOBS
from shared.retry import backoff_delay
from shared.runtime import decode_or_reject
from shared.service import StageDeps

log = logging.getLogger("videogen.gateway.projector")

BATCH = 50
IN_PLACE_RETRIES = 3
# A fetch returns as soon as events arrive; this only bounds one long-poll.
PULL_WAIT_SECONDS = 5.0


@contextlib.asynccontextmanager
async def projecting(deps: StageDeps) -> AsyncIterator[None]:
    """Run the projector for the duration of the block."""
    subscription = await deps.js.pull_subscribe_bind(
        durable=CONSUMERS["gateway"].durable, stream=subjects.STREAM
    )
    stop = asyncio.Event()
    task = asyncio.create_task(_project_until(stop, subscription, deps.jobs))
    try:
        yield
    finally:
        await stop_loop(task, stop)
        with contextlib.suppress(ConnectionClosedError):
            await subscription.unsubscribe()


async def stop_loop(
    task: asyncio.Task[None], stop: asyncio.Event, *, grace: float = PULL_WAIT_SECONDS * 2
) -> None:
    """Stop a polling loop: nats-py may turn a cancelled fetch into a TimeoutError, which
    the loop takes for "nothing yet", so the loop also watches `stop`; a loop that still
    runs after `grace` seconds is abandoned to the connection's close."""
    stop.set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=grace)


async def _project_until(
    stop: asyncio.Event, subscription: JetStreamContext.PullSubscription, jobs: JobStore
) -> None:
    while not stop.is_set():
        try:
            messages = await subscription.fetch(BATCH, timeout=PULL_WAIT_SECONDS)
        except TimeoutError:  # the builtin: nats' own TimeoutError is a subclass
            continue
        except (ConnectionClosedError, ServiceUnavailableError):
            await asyncio.sleep(1)  # reconnecting; unacked events come back
            continue
        for message in messages:
            await project_one(jobs, message)


async def project_one(jobs: JobStore, message: Msg) -> None:
    """Fold one event into its job's view (compare-and-set), then settle the message."""
    event = decode_or_reject(message.data, None)
    if event is None:
        await message.term()
        return
    seen: list[str] = []  # the status before the (last, successful) compare-and-set

    def change(view: JobView) -> JobView | None:
        seen.append(view.status)
        return apply(view, event)

    for retry in range(IN_PLACE_RETRIES + 1):
        try:
            updated = await jobs.update(event.user_id, event.job_id, change)
            break
        except Exception:
            if retry < IN_PLACE_RETRIES:  # retrying here keeps the stream's order
                await asyncio.sleep(0.1 * 2**retry)
                continue
            attempt = message.metadata.num_delivered or 1
            log.exception("projecting %s failed", event.type, extra={"job_id": event.job_id})
            await message.nak(delay=backoff_delay(attempt, cap=30.0))
            return
    await message.ack()
    if updated is not None and seen and updated.status != seen[-1]:
        JOBS.labels(updated.status).inc()
