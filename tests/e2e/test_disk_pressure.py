"""A full disk is a named condition, and the stack recovers by itself once space is freed.

DATA_DIR (with the NATS store) and the services' temp dir live on a small tmpfs, which
the test fills past MIN_FREE_DISK_MB: the job in flight fails with INSUFFICIENT_STORAGE
and a suggestion, new jobs get 507 with Retry-After instead of a queue that cannot move,
/ready names the condition; the ballast is deleted and the next job completes, with no
restart of anything.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from shared.diskspace import free_mb
from tests.e2e.helpers import submit, wait_for
from videogen.stack import isolated_stack

pytestmark = pytest.mark.e2e
T = TypeVar("T")

DISK_MB = 160
MIN_FREE_MB = 32


@pytest.fixture
def small_disk() -> Iterator[Path]:
    # Under /tmp itself, not pytest's private tmp_path: the render jail's uid (nobody) must
    # be able to reach the renderer's temp folder, which lives on this disk.
    disk = Path(tempfile.mkdtemp(prefix="videogen-small-disk-"))
    disk.chmod(0o711)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}"
        )
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)


def _fill(disk: Path, *, leave_mb: float) -> Path:
    """A ballast file that leaves about `leave_mb` free."""
    ballast = disk / "ballast"
    size = int((free_mb(disk) - leave_mb) * 2**20)
    with ballast.open("wb") as out:
        out.truncate(0)
        chunk = b"\0" * 2**20
        for _ in range(size // len(chunk)):
            out.write(chunk)
    return ballast


def _until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_full_disk_fails_cleanly_refuses_new_jobs_and_recovers(small_disk: Path) -> None:
    (small_disk / "tmp").mkdir()
    with (
        isolated_stack(
            small_disk / "data",
            TMPDIR=str(small_disk / "tmp"),
            MIN_FREE_DISK_MB=str(MIN_FREE_MB),
            DEFAULT_QUALITY="low",
        ) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        doomed = submit(api, "Cramer's Rule", {})
        ballast = _fill(small_disk, leave_mb=MIN_FREE_MB / 2)

        status, _ = wait_for(api, doomed)
        assert status["status"] == "failed", status
        error = status["error"]
        assert error["code"] == "INSUFFICIENT_STORAGE", error
        assert error["stage"] in ("rendering", "storage")
        assert "MIN_FREE_DISK_MB" in error["message"] and "Free disk space" in error["suggestion"]

        body = {"configuration": {"topic": "Ohm's law", "context": "V = I R"}}
        refused = _until(
            lambda: (
                r
                if (r := api.post("/api/v1/videos/generate", json=body)).status_code == 507
                else None
            ),
            30,
            "a 507",
        )
        assert refused.json()["error"]["code"] == "INSUFFICIENT_STORAGE"
        assert refused.json()["status"] == "error"
        assert int(refused.headers["Retry-After"]) >= 1
        ready = api.get("/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["conditions"]["disk_pressure"][0]["min_free_mb"] == MIN_FREE_MB
        for status_name in ("queued", "processing"):  # nothing accepted into a stuck queue
            listed = api.get("/api/v1/jobs", params={"status": status_name}).json()
            assert listed["total_count"] == 0, listed

        ballast.unlink()
        _until(lambda: api.get("/ready").json()["status"] == "ready", 60, "/ready to recover")
        recovered = submit(api, "Cramer's Rule", {})
        status, _ = wait_for(api, recovered)
        assert status["status"] == "completed", status.get("error")
        video = api.get(f"/api/v1/videos/jobs/{recovered}/download")
        assert video.status_code == 200 and len(video.content) > 10_000
