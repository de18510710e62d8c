"""kill -9 of storage mid-job: its temp folder (a full copy of the video) does not outlive it.

Storage is held inside its temp folder by an S3 endpoint that refuses connections (it
retries with backoff), killed there, restarted: the restart sweeps the dead owner's folder.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import submit
from videogen.stack import free_port, isolated_stack

pytestmark = pytest.mark.e2e


def _store_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("videogen-store-*"))


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_kill_9_of_storage_leaves_no_temp_folder(tmp_path: Path) -> None:
    # Under /tmp itself: the render jail's uid (nobody) must reach the services' TMPDIR.
    tmp = Path(tempfile.mkdtemp(prefix="videogen-temp-folders-"))
    tmp.chmod(0o755)
    with (
        isolated_stack(
            tmp_path / "stack",
            TMPDIR=str(tmp),
            DEFAULT_QUALITY="low",
            VIDEO_STORAGE_MODE="s3_only",
            S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
            S3_BUCKET="videos",
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test-secret",
            S3_CREATE_BUCKET="false",
            STORAGE_MAX_RETRIES="8",
            STORAGE_RETRY_BASE_SECONDS="5",
        ) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        submit(api, "Cramer's Rule", {})
        _wait(lambda: _store_folders(tmp), 300, "storage to start on the video")
        killed = stack.processes["storage"].pid
        (folder,) = _store_folders(tmp)
        assert folder.name.startswith(f"videogen-store-{killed}-")
        assert (folder / "video.mp4").exists()

        stack.kill_service("storage")
        assert folder.exists()  # SIGKILL runs no clean-up of its own
        stack.start_service("storage")
        _wait(lambda: not folder.exists(), 60, "the restarted storage to sweep the folder")
        assert not [f for f in _store_folders(tmp) if f"-{killed}-" in f.name]
    assert _store_folders(tmp) == []  # the restarted one removed its own on SIGTERM
    shutil.rmtree(tmp, ignore_errors=True)
