"""The projector: every event on the bus → the job view (JetStream KV).

Unlike a stage it does not skip terminal jobs (`apply` ignores what they no longer
take) and never gives up on an event: a failed projection is retried with a growing
delay. Replicas share the durable consumer, so each event is projected once.

It takes whole pulled batches and applies them one by one in stream order: FastStream
runs the messages of a non-batch pull concurrently, and a backlog (a restart, a burst)
folded shuffled loses history — `job.failed` overtaking the render failure just before
it would hide that failure for good, since terminal views take nothing more.
"""

from __future__ import annotations

import logging
from typing import Annotated

from faststream import AckPolicy, Context
from faststream.nats import JStream, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg

from services.gateway.projection import apply
from shared import subjects
from shared.broker import CONSUMERS
from shared.jobview import JobStore, JobView
from shared.metrics import JOBS
from shared.runtime import backoff_delay, decode_or_reject
from shared.service import StageDeps

log = logging.getLogger("videogen.gateway.projector")

# A batch is handed over when full or when this wait ends, so it bounds how late
# `/status` can be; idle, it costs a few pull requests a second.
PULL_WAIT_SECONDS = 0.2


def register_projector(deps: StageDeps) -> None:
    consumer = CONSUMERS["gateway"]

    async def project(batch: Annotated[NatsBatchMessage, Context("message")]) -> None:
        for message in batch.raw_message:
            await project_one(deps.jobs, message)

    deps.broker.subscriber(
        consumer.filter_subject,
        stream=JStream(subjects.STREAM, declare=False),
        durable=consumer.durable,
        pull_sub=PullSub(batch_size=50, timeout=PULL_WAIT_SECONDS, batch=True),
        ack_policy=AckPolicy.MANUAL,
    )(project)


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

    try:
        updated = await jobs.update(event.user_id, event.job_id, change)
    except Exception:
        attempt = message.metadata.num_delivered or 1
        log.exception("projecting %s failed", event.type, extra={"job_id": event.job_id})
        await message.nak(delay=backoff_delay(attempt, cap=30.0))
        return
    await message.ack()
    if updated is not None and seen and updated.status != seen[-1]:
        JOBS.labels(updated.status).inc()
