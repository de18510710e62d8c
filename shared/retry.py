"""Retries for the whole project: one backoff formula and one retry loop.

The broker's redeliveries, the LLM client's retries, the storage upload's retries and
the coder's wait before a fix all use `backoff_delay` (exponential, full jitter), so one
setting of `base` means the same thing everywhere; the LLM client and the storage upload
retry in-process through `retrying`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter around the nominal delay (attempt ≥ 1)."""
    nominal = min(cap, base * 2 ** max(attempt - 1, 0))
    jittered: float = nominal * random.uniform(0.5, 1.5)
    return round(jittered, 3)


class GaveUp(Exception):
    """A retried call's last error, and how many attempts were made before giving up."""

    def __init__(self, error: Exception, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempts: {error}")
        self.error = error
        self.attempts = attempts


async def retrying(
    call: Callable[[int], Awaitable[T]],
    *,
    attempts: int,
    retry_on: Callable[[Exception], bool],
    delay: Callable[[Exception, int], float],
    on_retry: Callable[[Exception, int, float], None] | None = None,
) -> T:
    """`call(attempt)` until it succeeds, at most `attempts` times (attempt counts from 1).

    An error `retry_on` accepts is retried after `delay(error, attempt)` seconds (after
    `on_retry` is told); any other error, or the last one, is raised as `GaveUp`. The
    waits are `asyncio.sleep`, so the event loop keeps serving heartbeats meanwhile.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call(attempt)
        except Exception as exc:
            if attempt >= attempts or not retry_on(exc):
                raise GaveUp(exc, attempt) from exc
            wait = delay(exc, attempt)
            if on_retry is not None:
                on_retry(exc, attempt, wait)
            await asyncio.sleep(wait)
