"""Disk pressure: a guard's measure, the error a job gets, and what the gateway makes of
replicas' reports (a dead replica's stale report stops counting)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from services.gateway.conditions import Conditions
from services.gateway.errors import ApiError
from shared.diskspace import STALE_AFTER, DiskGuard, DiskState, free_mb, insufficient_storage
from shared.events import utc_now


def test_measure_reports_the_tightest_folder_and_low_below_the_minimum(tmp_path: Path) -> None:
    guard = DiskGuard(
        None,  # type: ignore[arg-type]  # measure() never touches the bus
        service="storage",
        paths=[tmp_path, tmp_path / "not-yet"],
        min_free_mb=10**9,
    )
    state = guard.measure()
    assert state.low and state.min_free_mb == 10**9
    assert abs(state.free_mb - free_mb(tmp_path)) < 64
    error = insufficient_storage(state)
    assert error.code == "INSUFFICIENT_STORAGE" and "MIN_FREE_DISK_MB" in error.message
    assert error.details is not None
    assert error.suggestion and error.details["path"] == state.path


def _report(low: bool, *, age: timedelta) -> bytes:
    return msgspec.json.encode(
        DiskState(
            service="renderer",
            replica="r1",
            path="/tmp",
            free_mb=5,
            min_free_mb=512,
            low=low,
            checked_at=utc_now() - age,
        )
    )


def test_the_gateway_refuses_new_work_only_while_a_fresh_report_says_low() -> None:
    conditions, now = Conditions(), utc_now()
    conditions.observe("disk.renderer.r1", _report(True, age=timedelta(seconds=1)))
    with pytest.raises(ApiError) as refused:
        conditions.refuse_new_work(now)
    assert refused.value.status_code == 507 and refused.value.code == "INSUFFICIENT_STORAGE"
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert conditions.active(now)["disk_pressure"][0]["service"] == "renderer"

    conditions.observe("disk.renderer.r1", _report(True, age=STALE_AFTER * 2))  # it died
    conditions.refuse_new_work(now)
    conditions.observe("disk.renderer.r1", _report(False, age=timedelta(0)))  # space freed
    conditions.refuse_new_work(now)
    assert conditions.active(now) == {}
