"""`publish_surely`: a publish whose reply came back empty is retried (the message id makes
the repeat harmless); a timeout is not (the bus is slow: the client gets a 503)."""

from __future__ import annotations

import json

import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from services.gateway.outage import PUBLISH_ATTEMPTS, publish_surely
from shared.events import Event, JobCancelled


class FlakyBus:
    """A bus whose first publishes fail with the given errors."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.published: list[Event] = []
        self.calls = 0

    async def publish(self, event: Event) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.published.append(event)


EVENT = JobCancelled(job_id="j", user_id="u")


async def test_an_empty_reply_or_no_responders_is_retried() -> None:
    bus = FlakyBus(json.JSONDecodeError("Expecting value", "", 0), NoRespondersError())
    await publish_surely(bus, EVENT)  # type: ignore[arg-type]
    assert bus.calls == 3 and bus.published == [EVENT]


async def test_a_timeout_is_not_retried() -> None:
    bus = FlakyBus(NatsTimeoutError())
    with pytest.raises(TimeoutError):
        await publish_surely(bus, EVENT)  # type: ignore[arg-type]
    assert bus.calls == 1


async def test_retries_are_bounded() -> None:
    bus = FlakyBus(*[NoRespondersError() for _ in range(PUBLISH_ATTEMPTS)])
    with pytest.raises(NoRespondersError):
        await publish_surely(bus, EVENT)  # type: ignore[arg-type]
    assert bus.calls == PUBLISH_ATTEMPTS and not bus.published
