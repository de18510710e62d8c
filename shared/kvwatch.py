"""Following a KV bucket: every current entry, then every change, until told to stop.

nats-py's watcher iterator can swallow a task's cancellation (Python 3.11's `wait_for`
inside a request) and wait on forever, so loops here end on an event raced against each
update rather than on `cancel()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

from nats.js.kv import KeyValue, StopIterSentinel

log = logging.getLogger("videogen.kvwatch")
UPDATE_WAIT_SECONDS = 5.0


async def follow_bucket(
    kv: KeyValue, on_entry: Callable[[str, bytes | None], object], stop: asyncio.Event, *, what: str
) -> None:
    """Call `on_entry(key, value or None)` for every entry and change (deletes: None),
    awaiting it when it returns a coroutine; resume after errors, until `stop` is set."""
    while not stop.is_set():
        watcher = None
        try:
            watcher = await kv.watchall()
            async for entry in _until(watcher, stop):
                result = on_entry(entry.key, entry.value or None)
                if asyncio.iscoroutine(result):
                    await result
        except asyncio.CancelledError:
            raise
        except Exception:
            if not stop.is_set():
                log.warning("%s watch interrupted; resuming", what, exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            if watcher is not None:
                with contextlib.suppress(Exception):
                    await _stop(watcher)()


async def _until(
    watcher: KeyValue.KeyWatcher,
    stop: asyncio.Event,
) -> AsyncIterator[KeyValue.Entry]:
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            update = asyncio.ensure_future(_updates(watcher)(timeout=UPDATE_WAIT_SECONDS))
            await asyncio.wait({update, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                update.cancel()
                return
            try:
                entry = update.result()
            except TimeoutError:
                continue
            if isinstance(entry, StopIterSentinel):
                return
            if entry is not None:  # None: the end of the initial values
                yield entry
    finally:
        stopping.cancel()


_Update = KeyValue.Entry | StopIterSentinel | None  # None: the end of the initial values


# nats-py leaves KeyWatcher's methods unannotated; these name the types they have.
def _stop(watcher: KeyValue.KeyWatcher) -> Callable[[], Awaitable[None]]:
    return cast(Callable[[], Awaitable[None]], watcher.stop)


def _updates(watcher: KeyValue.KeyWatcher) -> Callable[..., Awaitable[_Update]]:
    return cast(Callable[..., Awaitable[_Update]], watcher.updates)
