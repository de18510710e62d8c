"""Following a KV bucket: every current entry, then every change, until told to stop.

nats-py's watcher iterator can swallow a task's cancellation (Python 3.11's `wait_for`
inside a request) and wait on forever, so loops here end on an event raced against each
update rather than on `cancel()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from nats.js.kv import KeyValue

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
                    await watcher.stop()


async def _until(
    watcher: KeyValue.KeyWatcher,
    stop: asyncio.Event,
) -> AsyncIterator[KeyValue.Entry]:
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            update = asyncio.ensure_future(watcher.updates(timeout=UPDATE_WAIT_SECONDS))
            await asyncio.wait({update, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                update.cancel()
                return
            try:
                entry = update.result()
            except TimeoutError:
                continue
            if entry is KeyValue.KeyWatcher.STOP_ITER:
                return
            if entry is not None:  # None: the end of the initial values
                yield entry
    finally:
        stopping.cancel()
