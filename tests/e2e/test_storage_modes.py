"""Each storage mode end to end: a job completes, files and objects are where the mode says,
and the video-url / stream routes serve the right bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio

from shared.jobview import user_key
from tests.e2e.helpers import submit, wait_for
from videogen.stack import isolated_stack

pytestmark = pytest.mark.e2e
KEYS: dict[str, Any] = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(params=["local_only", "s3_only", "local_and_s3"])
def mode_stack(request: pytest.FixtureRequest, s3_endpoint: str, tmp_path: Path) -> Iterator:
    mode = request.param
    bucket = f"videos-{mode.replace('_', '-')}"
    with isolated_stack(
        tmp_path / "stack",
        **KEYS,
        DEFAULT_QUALITY="low",
        VIDEO_STORAGE_MODE=mode,
        S3_ENDPOINT_URL=s3_endpoint,
        S3_BUCKET=bucket,
        S3_REGION="us-east-1",
    ) as stack:
        yield mode, bucket, stack


def test_storage_mode_end_to_end(mode_stack, s3_endpoint: str):
    mode, bucket, stack = mode_stack
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        job_id = submit(api, "Cramer's Rule", {})
        status, _ = wait_for(api, job_id)
        assert status["status"] == "completed", status.get("error")

        prefix = f"videos/{user_key('local')}/{job_id}/"
        local = stack.data_dir / prefix
        client = Minio(
            s3_endpoint.split("://")[1],
            access_key="testing",
            secret_key="testing",
            secure=False,
            region="us-east-1",
        )
        objects = (
            {
                o.object_name.rsplit("/", 1)[1]
                for o in client.list_objects(bucket, prefix=prefix, recursive=True)
            }
            if client.bucket_exists(bucket)
            else set()
        )
        expected = {"video.mp4", "thumb_small.jpg", "thumb_medium.jpg", "thumb_large.jpg"}
        assert (objects >= expected) == (mode != "local_only")
        assert ((local / "video.mp4").exists()) == (mode != "s3_only")

        whole = api.get(f"/api/v1/videos/jobs/{job_id}/stream").content
        urls = api.get(f"/api/v1/videos/jobs/{job_id}/video-url").json()
        video_url = urls["video_url"]
        if mode == "s3_only":
            assert video_url.startswith(s3_endpoint)  # presigned, minted per request
            fetched = httpx.get(video_url, headers={"Range": "bytes=10-109"})
        else:
            fetched = api.get(video_url, headers={"Range": "bytes=10-109"})
        assert fetched.status_code == 206
        assert fetched.content == whole[10:110]
        part = api.get(f"/api/v1/videos/jobs/{job_id}/stream", headers={"Range": "bytes=-64"})
        assert part.status_code == 206 and part.content == whole[-64:]
        assert len(whole) == status_size(api, job_id)

        assert api.delete(f"/api/v1/jobs/{job_id}").status_code == 200
        if mode != "local_only":
            assert list(client.list_objects(bucket, prefix=prefix, recursive=True)) == []
        assert not (local / "video.mp4").exists()


def status_size(api: httpx.Client, job_id: str) -> int:
    return api.get(f"/api/v1/videos/jobs/{job_id}/metadata").json()["video"]["file_size"]
