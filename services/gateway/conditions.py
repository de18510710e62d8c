"""The named conditions stage replicas announce (`shared.diskspace`), as the gateway sees
them: new jobs are refused with 507 while any replica reports disk pressure, and `/ready`
names the condition. Every gateway replica follows the bucket; nothing is asked per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from nats.js.kv import KeyValue

from services.gateway.errors import ApiError
from shared.diskspace import CHECK_INTERVAL_SECONDS, CONDITION, DiskState, decode_state
from shared.kvwatch import follow_bucket

RETRY_AFTER_SECONDS = round(CHECK_INTERVAL_SECONDS * 6)


@dataclass
class Conditions:
    disks: dict[str, DiskState] = field(default_factory=dict)

    def observe(self, key: str, value: bytes | None) -> None:
        try:
            state = decode_state(value) if value else None
        except (msgspec.DecodeError, msgspec.ValidationError):
            state = None
        if state is None:
            self.disks.pop(key, None)
        else:
            self.disks[key] = state

    def disk_pressure(self, now: datetime) -> list[DiskState]:
        """The replicas that currently cannot write (stale reports of dead ones left out)."""
        return [state for state in self.disks.values() if state.is_pressure(now)]

    def active(self, now: datetime) -> dict[str, list[dict[str, object]]]:
        """Every active condition with who reports it, for `/ready`."""
        pressure = self.disk_pressure(now)
        if not pressure:
            return {}
        return {
            CONDITION: [
                {
                    "service": s.service,
                    "path": s.path,
                    "free_mb": round(s.free_mb, 1),
                    "min_free_mb": s.min_free_mb,
                }
                for s in pressure
            ]
        }

    def refuse_new_work(self, now: datetime) -> None:
        """507 in the contract's shape while a job could not be written anywhere."""
        pressure = self.disk_pressure(now)
        if pressure:
            tightest = min(pressure, key=lambda state: state.free_mb)
            raise ApiError(
                507,
                "INSUFFICIENT_STORAGE",
                f"The {tightest.service} is low on disk space ({tightest.free_mb:.0f} MB free, "
                f"{tightest.min_free_mb} MB needed); no new jobs until space is freed",
                details=self.active(now),
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )


async def follow(kv: KeyValue, conditions: Conditions, stop: asyncio.Event) -> None:
    await follow_bucket(kv, conditions.observe, stop, what="conditions")
