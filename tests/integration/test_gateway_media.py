"""A completed job's media: video-url, stream and download with ranges, thumbnails, metadata."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from shared.events import StoredVideo, VideoStored
from shared.settings import Settings
from shared.videostore import LocalVideoStore, object_key
from tests.integration.test_gateway_api import (
    REQUEST,
    assert_error_shape,
    gateway_of,
    opened_gateway,
    wait_for_status,
)

TOPIC = "Théorème de Pythagore"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened_gateway(settings) as client:
        yield client


def write_mp4(path: Path, *, frames: int = 10) -> None:
    """A real, tiny H.264 video, like the renderer's output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(frames):
            pixels = np.full((48, 64, 3), index * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.fixture
async def completed_job(client: httpx.AsyncClient) -> tuple[str, bytes]:
    """A job whose video (and small thumbnail) the storage service would have stored."""
    request = {"configuration": {**REQUEST["configuration"], "topic": TOPIC}}
    job_id = (await client.post("/api/v1/videos/generate", json=request)).json()["job_id"]
    gateway = gateway_of(client)
    store = LocalVideoStore(gateway.deps.settings.storage_dir)
    video_key = object_key("local", job_id, "video.mp4")
    thumbnail_key = object_key("local", job_id, "thumb_small.jpg")
    write_mp4(store.local_path(video_key))
    Image.new("RGB", (32, 24), "navy").save(store.local_path(thumbnail_key), "JPEG")
    data = store.local_path(video_key).read_bytes()
    await gateway.deps.bus.publish(
        VideoStored(
            job_id=job_id,
            user_id="local",
            model="builtin",
            video=StoredVideo(
                storage_mode="local_only",
                video_key=video_key,
                thumbnail_keys={"small": thumbnail_key},
                duration_seconds=1.0,
                width=64,
                height=48,
                fps=10.0,
                frame_count=10,
                file_size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        )
    )
    await wait_for_status(client, job_id, lambda body: body["status"] == "completed")
    return job_id, data


async def test_video_url_and_metadata(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    job_id, data = completed_job
    base = f"/api/v1/videos/jobs/{job_id}"
    urls = (await client.get(f"{base}/video-url")).json()
    assert urls["status"] == "completed"
    assert (urls["video_url"], urls["download_url"], urls["thumbnail_url"]) == (
        f"{base}/stream",
        f"{base}/download",
        f"{base}/thumbnail",
    )
    assert urls["metadata"]["file_size"] == len(data) and urls["metadata"]["format"] == "mp4"
    assert urls["metadata"]["quality"] == "medium"

    metadata = (await client.get(f"{base}/metadata")).json()
    assert metadata["video"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (metadata["video"]["width"], metadata["video"]["height"]) == (64, 48)
    assert metadata["thumbnail_urls"] == [f"{base}/thumbnail?size=small"]
    assert metadata["streaming_url"] == f"{base}/stream"
    status = (await client.get(f"{base}/status")).json()
    assert status["progress"]["percentage"] == 100 and status["model"] == "builtin"
    assert status["progress"]["current_stage"] == "completed"
    assert "completed" not in status["progress"]["stages_completed"]


async def test_stream_serves_byte_ranges(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    job_id, data = completed_job
    url, size = f"/api/v1/videos/jobs/{job_id}/stream", len(data)
    whole = await client.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-disposition"] == "inline"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"].startswith("private")

    for header, expected, first, last in (
        ("bytes=0-99", data[:100], 0, 99),
        ("bytes=-100", data[-100:], size - 100, size - 1),
        ("bytes=100-", data[100:], 100, size - 1),
        (f"bytes=10-{size * 2}", data[10:], 10, size - 1),
    ):
        part = await client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == expected
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert part.headers["content-length"] == str(len(expected))

    missed = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert_error_shape(missed, 416, "RANGE_NOT_SATISFIABLE")
    assert missed.headers["content-range"] == f"bytes */{size}"


async def test_stream_answers_304_to_a_current_cache(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    url = f"/api/v1/videos/jobs/{completed_job[0]}/stream"
    first = await client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    assert (await client.get(url, headers={"If-Modified-Since": modified})).status_code == 304
    changed = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


async def test_download_names_the_file_after_the_topic(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    job_id, data = completed_job
    download = await client.get(f"/api/v1/videos/jobs/{job_id}/download")
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-disposition"] == (
        'attachment; filename="Theoreme_de_Pythagore.mp4"; '
        "filename*=UTF-8''Th%C3%A9or%C3%A8me%20de%20Pythagore.mp4"
    )
    inline = await client.get(f"/api/v1/videos/jobs/{job_id}/download", params={"inline": True})
    assert inline.headers["content-disposition"].startswith("inline; filename=")


async def test_thumbnails_that_exist_and_that_do_not(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    url = f"/api/v1/videos/jobs/{completed_job[0]}/thumbnail"
    small = await client.get(url, params={"size": "small"})
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert small.content.startswith(b"\xff\xd8")
    assert_error_shape(await client.get(url, params={"size": "large"}), 404, "NOT_FOUND")
    assert_error_shape(await client.get(url, params={"size": "huge"}), 422, "VALIDATION_ERROR")


async def test_delete_removes_the_stored_files(
    client: httpx.AsyncClient, completed_job: tuple[str, bytes]
) -> None:
    job_id, _ = completed_job
    settings = gateway_of(client).deps.settings
    folder = LocalVideoStore(settings.storage_dir).local_path(object_key("local", job_id, ""))
    assert any(folder.iterdir())
    assert (await client.delete(f"/api/v1/jobs/{job_id}")).status_code == 200
    assert not folder.exists()
    assert_error_shape(await client.get(f"/api/v1/videos/jobs/{job_id}/stream"), 404, "NOT_FOUND")
