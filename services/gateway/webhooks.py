"""Signed webhooks when a job ends: each delivery a record in KV, retried for about a day.

When a job with a `webhook_url` reaches completed, failed or cancelled, a delivery record
(`<job id>.<status>.<finish time>`) is created in the webhooks bucket holding the exact
body to send: the job's status body at that moment. Every gateway replica watches the
job views and tries to create it; KV `create` lets exactly one succeed. Every replica
also watches the deliveries, and an attempt starts with a compare-and-set *claim* of the
record: only the replica whose claim lands sends, so two replicas never both deliver.
A replica that dies mid-attempt leaves a claim that expires, and another one retries:
delivery is at least once, and the stable `webhook-id` lets receivers drop a repeat.

Attempts follow WEBHOOK_RETRY_SCHEDULE (waits after each failure); each is recorded in
the record, which `GET /api/v1/jobs/{id}/webhooks` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.gateway import views
from services.gateway.webhook_signing import secret_key, signed_headers
from services.gateway.webhook_urls import UrlRefused, check_webhook_url
from shared.events import utc_now
from shared.jobview import JobView
from shared.kvwatch import follow_bucket
from shared.settings import Settings

log = logging.getLogger("videogen.gateway.webhooks")

CLAIM_MARGIN_SECONDS = 30.0
IDLE_POLL_SECONDS = 1.0
MAX_PARALLEL_DELIVERIES = 16
MAX_ERROR_CHARS = 300


class Attempt(msgspec.Struct, kw_only=True):
    number: int
    at: datetime
    status_code: int | None = None  # the receiver's answer; None: no answer
    error: str | None = None
    duration_seconds: float = 0.0


class Delivery(msgspec.Struct, kw_only=True):
    """One webhook message (one job ending) and every attempt to deliver it."""

    id: str  # `webhook-id`: the same on every retry
    job_id: str
    user_id: str
    event: str  # job.completed | job.failed | job.cancelled
    url: str
    payload: str  # the exact body sent (and signed) on every attempt
    created_at: datetime
    state: str = "pending"  # pending | delivered | failed
    attempts: list[Attempt] = []
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None

    def due(self, now: datetime) -> bool:
        return (
            self.state == "pending"
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
            and (self.claimed_until is None or self.claimed_until <= now)
        )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Delivery)
_views = msgspec.json.Decoder(JobView)


def delivery_key(view: JobView) -> str:
    """One key per ending of a job (a replayed job that ends again is announced again)."""
    finished = view.completed_at or view.updated_at
    return f"{view.job_id}.{view.status}.{int(finished.timestamp() * 1_000_000)}"


def new_delivery(view: JobView, *, now: datetime) -> Delivery:
    body = views.job_status(view, now=now).model_dump_json()
    return Delivery(
        id=f"msg_{uuid.uuid4().hex}",
        job_id=view.job_id,
        user_id=view.user_id,
        event=f"job.{view.status}",
        url=view.webhook_url or "",
        payload=body,
        created_at=now,
        next_attempt_at=now,
    )


def after_attempt(
    delivery: Delivery, attempt: Attempt, *, schedule: tuple[float, ...], now: datetime
) -> Delivery:
    """The record once `attempt` is done: delivered, retried later, or given up."""
    attempts = [*delivery.attempts, attempt]
    if attempt.status_code is not None and 200 <= attempt.status_code < 300:
        return msgspec.structs.replace(
            delivery, attempts=attempts, state="delivered", next_attempt_at=None, claimed_until=None
        )
    retries_done = len(attempts) - 1
    if retries_done >= len(schedule):
        return msgspec.structs.replace(
            delivery, attempts=attempts, state="failed", next_attempt_at=None, claimed_until=None
        )
    wait = timedelta(seconds=schedule[retries_done])
    return msgspec.structs.replace(
        delivery, attempts=attempts, next_attempt_at=now + wait, claimed_until=None
    )


async def deliveries_of(kv: KeyValue, job_id: str) -> list[Delivery]:
    """Every delivery of one job, oldest first."""
    watcher = await kv.watch(f"{job_id}.>", ignore_deletes=True)
    found: list[Delivery] = []
    try:
        async for entry in watcher:
            if entry is None:
                break
            if entry.value:
                found.append(_decoder.decode(entry.value))
    finally:
        await watcher.stop()
    return sorted(found, key=lambda delivery: delivery.created_at)


@dataclass
class Dispatcher:
    """Creates and sends one gateway replica's share of the webhook deliveries."""

    deliveries: KeyValue
    settings: Settings
    http: httpx.AsyncClient
    clock: Callable[[], datetime] = utc_now
    pending: dict[str, Delivery] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _running: set[str] = field(default_factory=set)

    async def announce(self, view: JobView) -> None:
        """A job view changed: if it just ended and wants a webhook, record the delivery."""
        if not view.is_terminal or not view.webhook_url:
            return
        delivery = new_delivery(view, now=self.clock())
        with contextlib.suppress(KeyWrongLastSequenceError):  # another replica was first
            await self.deliveries.create(delivery_key(view), _encoder.encode(delivery))

    def observe(self, key: str, value: bytes | None) -> None:
        """A delivery record changed (from the watch): keep the pending ones at hand."""
        delivery = _decoder.decode(value) if value else None
        if delivery is None or delivery.state != "pending":
            self.pending.pop(key, None)
        else:
            self.pending[key] = delivery
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Start every due delivery, until `stop`."""
        limit = asyncio.Semaphore(MAX_PARALLEL_DELIVERIES)
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            now = self.clock()
            for key, delivery in list(self.pending.items()):
                if delivery.due(now) and key not in self._running:
                    self._running.add(key)
                    task = asyncio.create_task(self._attempt(key, limit))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sleep_seconds(now))
        for task in tasks:
            task.cancel()

    def _sleep_seconds(self, now: datetime) -> float:
        upcoming = [
            max(delivery.next_attempt_at, delivery.claimed_until or delivery.next_attempt_at)
            for delivery in self.pending.values()
            if delivery.next_attempt_at is not None
        ]
        if not upcoming:
            return IDLE_POLL_SECONDS
        return min(max((min(upcoming) - now).total_seconds(), 0.01), IDLE_POLL_SECONDS)

    async def _attempt(self, key: str, limit: asyncio.Semaphore) -> None:
        try:
            async with limit:
                claimed = await self._claim(key)
                if claimed is not None:
                    delivery, revision = claimed
                    attempt = await self._send(delivery)
                    done = after_attempt(
                        delivery,
                        attempt,
                        schedule=self.settings.webhook_retry_schedule,
                        now=self.clock(),
                    )
                    try:
                        await self.deliveries.update(key, _encoder.encode(done), last=revision)
                    except KeyWrongLastSequenceError:
                        log.warning("webhook %s: the record changed during the attempt", key)
                    self.observe(key, _encoder.encode(done))
                    _log_attempt(done, attempt)
        except Exception:
            log.exception("webhook %s: attempt failed unexpectedly", key)
        finally:
            self._running.discard(key)

    async def _claim(self, key: str) -> tuple[Delivery, int] | None:
        """The record and its revision if this replica won the attempt, else None."""
        try:
            entry = await self.deliveries.get(key)
        except KeyNotFoundError:
            self.pending.pop(key, None)
            return None
        delivery = _decoder.decode(entry.value) if entry.value else None
        now = self.clock()
        if delivery is None or not delivery.due(now):
            if delivery is not None:
                self.observe(key, entry.value)
            return None
        hold = self.settings.webhook_timeout_seconds + CLAIM_MARGIN_SECONDS
        claimed = msgspec.structs.replace(delivery, claimed_until=now + timedelta(seconds=hold))
        try:
            revision = await self.deliveries.update(
                key, _encoder.encode(claimed), last=entry.revision
            )
        except KeyWrongLastSequenceError:
            return None  # another replica claimed it first
        return claimed, revision

    async def _send(self, delivery: Delivery) -> Attempt:
        number, now = len(delivery.attempts) + 1, self.clock()
        started = time.perf_counter()
        body = delivery.payload.encode()
        if not self.settings.webhook_secret:  # never sign with an empty key
            return Attempt(number=number, at=now, error="not sent: WEBHOOK_SECRET is not set")
        try:
            await check_webhook_url(delivery.url, allow_private=self.settings.webhook_allow_private)
            headers = signed_headers(
                secret_key(self.settings.webhook_secret.reveal()),
                delivery.id,
                int(now.timestamp()),
                body,
            )
            response = await self.http.post(
                delivery.url,
                content=body,
                headers=headers,
                timeout=self.settings.webhook_timeout_seconds,
            )
        except UrlRefused as exc:
            return Attempt(number=number, at=now, error=f"refused: the URL {exc}")
        except httpx.HTTPError as exc:
            return Attempt(
                number=number,
                at=now,
                error=_short(exc),
                duration_seconds=round(time.perf_counter() - started, 3),
            )
        return Attempt(
            number=number,
            at=now,
            status_code=response.status_code,
            error=None if response.is_success else _short(response.text),
            duration_seconds=round(time.perf_counter() - started, 3),
        )


def _short(what: object) -> str:
    text = f"{type(what).__name__}: {what}" if isinstance(what, Exception) else str(what)
    return text[:MAX_ERROR_CHARS]


def _log_attempt(delivery: Delivery, attempt: Attempt) -> None:
    log.info(
        "webhook attempt %d: %s",
        attempt.number,
        delivery.state,
        extra={
            "job_id": delivery.job_id,
            "webhook_id": delivery.id,
            "status_code": attempt.status_code,
            "error": attempt.error,
        },
    )


@contextlib.asynccontextmanager
async def delivering(
    jobs: KeyValue,
    deliveries: KeyValue,
    settings: Settings,
) -> AsyncIterator[Dispatcher]:
    """Run this replica's webhook work for the duration of the block."""
    async with httpx.AsyncClient(
        follow_redirects=False, headers={"user-agent": "videogen-webhooks/1"}
    ) as http:
        dispatcher = Dispatcher(deliveries, settings, http)
        stop = asyncio.Event()

        async def on_view(_key: str, value: bytes | None) -> None:
            if value:
                with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                    await dispatcher.announce(_views.decode(value))

        tasks = [
            asyncio.create_task(follow_bucket(jobs, on_view, stop, what="job-view")),
            asyncio.create_task(
                follow_bucket(deliveries, dispatcher.observe, stop, what="webhook")
            ),
            asyncio.create_task(dispatcher.run(stop)),
        ]
        try:
            yield dispatcher
        finally:
            stop.set()  # every loop watches it: they end by themselves
            _, late = await asyncio.wait(tasks, timeout=5.0)
            for task in late:
                task.cancel()
