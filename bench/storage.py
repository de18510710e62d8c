"""Storage benchmark: a 50 MB video to and from a local S3 server, and time to first byte.

`python -m bench.storage` prints the JSON of `run()`. The S3 server is moto on loopback
(the same one the tests use), so the numbers measure this code and the SDK on one
host, not a network.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from shared.s3store import S3VideoStore
from shared.settings import Secret, load_settings
from shared.videostore import LocalVideoStore, VideoStore
from tests.s3server import ACCESS_KEY, SECRET_KEY, running_moto_server

SIZE_BYTES = 50_000_000
KEY = "videos/bench/job/video.mp4"


def run() -> dict[str, Any]:
    """Upload/download MB/s through `S3VideoStore`; first-byte ms of `open_range`."""
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as folder:
        root = Path(folder)
        source = root / "video.mp4"
        source.write_bytes(os.urandom(SIZE_BYTES))
        with running_moto_server(root) as endpoint:
            return asyncio.run(_measure(root, source, endpoint))


async def _measure(root: Path, source: Path, endpoint: str) -> dict[str, Any]:
    settings = load_settings(
        {},
        video_storage_mode="s3_only",
        s3_endpoint_url=endpoint,
        s3_bucket="bench",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=Secret(SECRET_KEY),
        data_dir=root / "data",
    )
    s3 = S3VideoStore.from_settings(settings)
    local = LocalVideoStore(settings.storage_dir)
    megabytes = SIZE_BYTES / 1e6

    started = time.perf_counter()
    await s3.save(KEY, source, content_type="video/mp4")
    upload = time.perf_counter() - started
    await local.save(KEY, source, content_type="video/mp4")

    started = time.perf_counter()
    received = 0
    async for chunk in s3.open_range(KEY, 0, SIZE_BYTES - 1):
        received += len(chunk)
    download = time.perf_counter() - started
    assert received == SIZE_BYTES

    return {
        "file_mb": round(megabytes, 1),
        "s3_upload_mb_per_s": round(megabytes / upload, 1),
        "s3_upload_seconds": round(upload, 3),
        "s3_download_mb_per_s": round(megabytes / download, 1),
        "s3_download_seconds": round(download, 3),
        "first_byte_ms": {
            "local": await _first_byte_ms(local),
            "s3": await _first_byte_ms(s3),
        },
    }


async def _first_byte_ms(store: VideoStore, *, samples: int = 5) -> float:
    """Median time from `stat` (what /stream does first) to the first chunk."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        stored = await store.stat(KEY)
        assert stored is not None
        chunks = store.open_range(KEY, 0, stored.size - 1)
        await anext(chunks)
        times.append(time.perf_counter() - started)
        await chunks.aclose()
    return round(sorted(times)[samples // 2] * 1000, 2)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
