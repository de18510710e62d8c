"""Disk pressure as a named condition: check before writing, and announce it.

A full disk used to surface as whatever broke first ("nats: timeout", "a bug in
videogen"), and jobs kept being accepted into a queue that could not move. Now storage
and the renderer check free space before they write (MIN_FREE_DISK_MB, headroom that
keeps NATS and the logs writing): a job that cannot be written fails with
`INSUFFICIENT_STORAGE` and says what to do. Each replica also announces its disk state
in the conditions bucket, every few seconds and on every check; the gateway follows
that bucket to answer new jobs with 507 and to report the condition on `/ready`, and
accepts again by itself once a replica announces that space was freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from shared import subjects
from shared.errors import PermanentError
from shared.events import utc_now

if TYPE_CHECKING:
    from shared.service import StageDeps

log = logging.getLogger("videogen.diskspace")

CHECK_INTERVAL_SECONDS = 5.0
# A replica that stopped announcing (it died) no longer speaks for the disk.
STALE_AFTER = timedelta(seconds=60)
CONDITION = "disk_pressure"


class DiskState(msgspec.Struct, kw_only=True):
    """What one replica last saw of the disk it writes to."""

    service: str
    replica: str
    path: str
    free_mb: float
    min_free_mb: int
    low: bool
    checked_at: datetime

    def is_pressure(self, now: datetime) -> bool:
        return self.low and now - self.checked_at < STALE_AFTER


_encoder = msgspec.json.Encoder()
decode_state = msgspec.json.Decoder(DiskState).decode


def free_mb(path: Path) -> float:
    """Free space of the file system holding `path` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free / 2**20


def insufficient_storage(state: DiskState) -> PermanentError:
    return PermanentError(
        f"Only {state.free_mb:.0f} MB free at {state.path}; the {state.service} keeps at "
        f"least {state.min_free_mb} MB free (MIN_FREE_DISK_MB) and writes nothing below it",
        code="INSUFFICIENT_STORAGE",
        suggestion=f"Free disk space at {state.path} (for example delete old jobs with "
        "DELETE /api/v1/jobs/{id}) or give it a larger volume, then submit the job again; "
        "new jobs are accepted again as soon as there is room.",
        details={
            "path": state.path,
            "free_mb": round(state.free_mb, 1),
            "min_free_mb": state.min_free_mb,
        },
    )


class DiskGuard:
    """One replica's check of the folders it writes to, announced in the conditions bucket."""

    def __init__(
        self, js: JetStreamContext, *, service: str, paths: list[Path], min_free_mb: int
    ) -> None:
        self.js = js
        self.service = service
        self.paths = paths
        self.min_free_mb = min_free_mb
        replica = re.sub(r"[^A-Za-z0-9_-]", "-", f"{socket.gethostname()}-{os.getpid()}")
        self.key = f"disk.{service}.{replica}"
        self._kv: KeyValue | None = None
        self._low: bool | None = None

    def measure(self) -> DiskState:
        """The tightest of the folders: the one with the least free space."""
        path, free = min(((path, free_mb(path)) for path in self.paths), key=lambda p: p[1])
        return DiskState(
            service=self.service,
            replica=self.key.split(".", 2)[2],
            path=str(path),
            free_mb=free,
            min_free_mb=self.min_free_mb,
            low=free < self.min_free_mb,
            checked_at=utc_now(),
        )

    async def check(self) -> None:
        """Before writing: announce the state, and raise INSUFFICIENT_STORAGE when low."""
        state = await self.announce()
        if state.low:
            raise insufficient_storage(state)

    async def announce(self) -> DiskState:
        state = await asyncio.to_thread(self.measure)
        if state.low != self._low:
            level = logging.WARNING if state.low else logging.INFO
            log.log(
                level,
                "disk %s at %s: %.0f MB free (minimum %d MB)",
                "pressure" if state.low else "ok",
                state.path,
                state.free_mb,
                state.min_free_mb,
            )
            self._low = state.low
        try:
            if self._kv is None:
                self._kv = await self.js.key_value(subjects.CONDITIONS_BUCKET)
            await self._kv.put(self.key, _encoder.encode(state))
        except Exception as exc:  # the bus is down or full: the check itself still holds
            log.debug("disk state not announced: %s", exc)
        return state

    async def watch(self, connection_closed: Callable[[], bool]) -> None:
        """Announce every few seconds until the connection closes (so a freed disk is seen
        without waiting for the next job)."""
        while not connection_closed():
            with contextlib.suppress(Exception):
                await self.announce()
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)


def start_disk_guard(deps: StageDeps, paths: list[Path]) -> DiskGuard:
    """A guard for a stage, announcing in the background while it is connected."""
    guard = DiskGuard(
        deps.js, service=deps.name, paths=paths, min_free_mb=deps.settings.min_free_disk_mb
    )
    connection = deps.connection
    task = asyncio.get_running_loop().create_task(guard.watch(lambda: connection.is_closed))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return guard


_running: set[asyncio.Task[None]] = set()
