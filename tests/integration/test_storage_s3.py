"""The storage stage on a real bus against a real S3-compatible server (moto).

Each test runs the storage service's own `register` on a connected `StageDeps`, puts a
real mp4 into the artifact store, publishes `video.combined` and reads what the stage
published back from the stream. S3 outages are real: a relay in front of moto closes
connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import httpx
import numpy as np
import pytest
from nats.js import api as js_api
from PIL import Image

from services.storage.handlers import register
from shared import subjects
from shared.artifacts import ArtifactMissing, clip_name, video_name
from shared.events import (
    JobConfig,
    JobContext,
    JobFailed,
    VideoCombined,
    VideoStored,
    decode,
)
from shared.jobview import JobView
from shared.s3store import S3VideoStore
from shared.service import StageDeps, connected
from shared.settings import Secret, Settings
from shared.storage_modes import open_video_store
from shared.videostore import object_key
from tests.s3server import ACCESS_KEY, SECRET_KEY, FlakyRelay
from videogen.natsd import NatsServer

USER = "tester"
Outcome = VideoStored | JobFailed


@pytest.fixture(scope="module")
def nats_server(private_nats_server: NatsServer) -> NatsServer:
    """This module runs real stage durables: it gets a server of its own."""
    return private_nats_server


@pytest.fixture(scope="session")
def two_second_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of 640x360 H.264 that opens on black frames, like a Manim scene."""
    path = tmp_path_factory.mktemp("video") / "combined.mp4"
    fps, width, height = 24, 640, 360
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(2 * fps):
            frame = np.zeros((height, width, 3), dtype=np.uint8)
            if index >= 6:
                left = 10 * index
                frame[80:280, left : left + 200] = (255, 200, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _settings(base: Settings, endpoint: str, **changes: Any) -> Settings:
    return dataclasses.replace(
        base,
        s3_endpoint_url=endpoint,
        s3_bucket=f"videos-{uuid.uuid4().hex[:12]}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=Secret(SECRET_KEY),
        storage_retry_base_seconds=0.05,
        **changes,
    )


@asynccontextmanager
async def _storage_stage(settings: Settings) -> AsyncIterator[StageDeps]:
    async with connected("storage", settings) as deps:
        register(deps)
        await deps.broker.start()
        yield deps


async def _combined(deps: StageDeps, video: Path) -> VideoCombined:
    """A job in the job view and its combined video (plus one clip) in the artifacts."""
    job_id = str(uuid.uuid4())
    await deps.jobs.create(
        JobView(job_id=job_id, user_id=USER, config=JobConfig(topic="t", context="c"))
    )
    await deps.artifacts.put_file(clip_name(job_id, 1), video)
    return VideoCombined(
        job_id=job_id,
        user_id=USER,
        duration_seconds=2.0,
        context=JobContext(quality="low", scene_model="builtin"),
        video_ref=await deps.artifacts.put_file(video_name(job_id), video),
    )


async def _run(deps: StageDeps, event: VideoCombined, timeout: float = 30) -> Outcome:
    """Publish `event` and wait for the job's video.stored or job.failed."""
    await deps.bus.publish(event)
    subscription = await deps.js.subscribe(
        subjects.events_of_job(event.job_id),
        ordered_consumer=True,
        deliver_policy=js_api.DeliverPolicy.ALL,
    )
    try:
        while True:
            outcome = decode((await subscription.next_msg(timeout=timeout)).data)
            if isinstance(outcome, VideoStored | JobFailed):
                return outcome
    finally:
        await subscription.unsubscribe()


async def _stored(deps: StageDeps, event: VideoCombined) -> VideoStored:
    outcome = await _run(deps, event)
    assert isinstance(outcome, VideoStored), outcome
    return outcome


async def _until_missing(deps: StageDeps, name: str, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        try:
            await deps.artifacts.get_bytes(name)
        except ArtifactMissing:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} is still stored")


async def _read(store: Any, key: str, first: int, last: int) -> bytes:
    return b"".join([chunk async for chunk in store.open_range(key, first, last)])


def _assert_thumbnails_decode(images: dict[str, bytes]) -> None:
    assert set(images) == {"small", "medium", "large"}
    widths = {}
    for size, data in images.items():
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            widths[size] = image.width
            # the video opens on black; a real thumbnail shows the bright box
            assert np.asarray(image.convert("L")).mean() > 20, size
    assert widths == {"small": 320, "medium": 640, "large": 640}  # never upscaled


async def test_local_only_stores_files_and_thumbnails(settings: Settings, two_second_video: Path):
    async with _storage_stage(settings) as deps:
        event = await _combined(deps, two_second_video)
        video = (await _stored(deps, event)).video
    store = open_video_store(settings)
    path = settings.storage_dir / video.video_key
    assert path.read_bytes() == two_second_video.read_bytes()
    assert video.locations == {"local": str(path.resolve())}
    assert (video.width, video.height, video.frame_count) == (640, 360, 48)
    assert video.duration_seconds == pytest.approx(2.0, abs=0.05)
    _assert_thumbnails_decode(
        {
            size: (settings.storage_dir / key).read_bytes()
            for size, key in video.thumbnail_keys.items()
        }
    )
    assert store.presigned_get(video.video_key, expires=timedelta(minutes=1)) is None
    assert await _read(store, video.video_key, 100, 199) == path.read_bytes()[100:200]


async def test_s3_only_stores_objects_and_serves_ranges(
    settings: Settings, s3_endpoint: str, two_second_video: Path
):
    settings = _settings(settings, s3_endpoint, video_storage_mode="s3_only")
    async with _storage_stage(settings) as deps:
        event = await _combined(deps, two_second_video)
        video = (await _stored(deps, event)).video
    store = open_video_store(settings)
    data = two_second_video.read_bytes()
    assert video.locations == {"s3": f"s3://{settings.s3_bucket}/{video.video_key}"}
    assert not settings.storage_dir.exists() or not any(settings.storage_dir.rglob("*.mp4"))
    stat = await store.stat(video.video_key)
    assert stat is not None and stat.size == len(data)
    assert stat.content_type == "video/mp4"
    assert stat.metadata == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "job": event.job_id,
        "user": USER,
        "duration": f"{video.duration_seconds:.3f}",
        "resolution": "640x360",
        "revision": "1",
    }
    url = store.presigned_get(
        video.video_key,
        expires=timedelta(minutes=5),
        disposition='attachment; filename="video.mp4"',
    )
    assert url is not None
    async with httpx.AsyncClient() as client:
        partial = await client.get(url, headers={"Range": "bytes=1000-4999"})
        thumbs = {
            size: (await client.get(str(store.presigned_get(key, expires=timedelta(minutes=5)))))
            for size, key in video.thumbnail_keys.items()
        }
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes 1000-4999/{len(data)}"
    assert partial.headers["content-disposition"] == 'attachment; filename="video.mp4"'
    assert partial.content == data[1000:5000]
    _assert_thumbnails_decode({size: response.content for size, response in thumbs.items()})
    assert await _read(store, video.video_key, 1000, 4999) == data[1000:5000]
    assert await _read(store, video.video_key, len(data) - 10, len(data) - 1) == data[-10:]

    removed = await store.delete_prefix(object_key(USER, event.job_id, ""))
    assert removed == 4  # the video and three thumbnails
    assert await store.stat(video.video_key) is None
    with pytest.raises(FileNotFoundError):
        await _read(store, video.video_key, 0, 10)


async def test_local_and_s3_keeps_both_copies(
    settings: Settings, s3_endpoint: str, two_second_video: Path
):
    settings = _settings(settings, s3_endpoint, video_storage_mode="local_and_s3")
    async with _storage_stage(settings) as deps:
        event = await _combined(deps, two_second_video)
        video = (await _stored(deps, event)).video
    store = open_video_store(settings)
    s3 = S3VideoStore.from_settings(settings)
    path = settings.storage_dir / video.video_key
    assert set(video.locations) == {"local", "s3"} and not video.local_fallback
    assert path.is_file()
    assert all((settings.storage_dir / key).is_file() for key in video.thumbnail_keys.values())
    assert (await s3.stat(video.video_key)).size == path.stat().st_size  # type: ignore[union-attr]
    # served from the local copy while there is one, from S3 where this host has none
    assert store.presigned_get(video.video_key, expires=timedelta(minutes=1)) is None
    path.unlink()
    url = store.presigned_get(video.video_key, expires=timedelta(minutes=1))
    assert url is not None and urlsplit(url).path.endswith(video.video_key)
    assert await _read(store, video.video_key, 0, 99) == two_second_video.read_bytes()[:100]

    assert await store.delete_prefix(object_key(USER, event.job_id, "")) == 4 + 3
    assert await s3.stat(video.video_key) is None
    assert not path.parent.exists()


async def test_s3_down_for_two_attempts_then_up_completes(
    settings: Settings, s3_endpoint: str, two_second_video: Path
):
    relay = await FlakyRelay(urlsplit(s3_endpoint).port or 0, refuse=2).start()
    try:
        settings = _settings(settings, relay.url, video_storage_mode="s3_only")
        async with _storage_stage(settings) as deps:
            event = await _combined(deps, two_second_video)
            video = (await _stored(deps, event)).video
    finally:
        await relay.stop()
    assert relay.refused == 2
    stat = await S3VideoStore.from_settings(
        dataclasses.replace(settings, s3_endpoint_url=s3_endpoint)
    ).stat(video.video_key)
    assert stat is not None and stat.metadata["sha256"] == video.sha256


async def test_s3_down_for_good_fails_at_storage_after_three_retries(
    settings: Settings, s3_endpoint: str, two_second_video: Path
):
    relay = await FlakyRelay(urlsplit(s3_endpoint).port or 0, refuse=10**6).start()
    try:
        settings = _settings(
            settings, relay.url, video_storage_mode="s3_only", storage_cleanup=True
        )
        async with _storage_stage(settings) as deps:
            event = await _combined(deps, two_second_video)
            failed = await _run(deps, event)
            # cleanup is on, but nothing was verified: the intermediate files stay
            assert await deps.artifacts.get_bytes(event.video_ref)
            assert await deps.artifacts.get_bytes(clip_name(event.job_id, 1))
    finally:
        await relay.stop()
    assert isinstance(failed, JobFailed), failed
    error = failed.error
    assert (error.code, error.stage, error.recoverable) == (
        "STORAGE_UPLOAD_FAILED",
        "storage",
        False,
    )
    assert error.attempts == 4 and error.details is not None and error.details["retries"] == 3
    assert relay.refused == 4  # the first try and exactly three retries
    assert "after 4 attempts" in error.message and "Connection aborted" in error.message
    assert "S3_ENDPOINT_URL" in error.suggestion


async def test_cleanup_removes_intermediate_files_after_a_verified_upload(
    settings: Settings, s3_endpoint: str, two_second_video: Path
):
    settings = _settings(settings, s3_endpoint, video_storage_mode="s3_only", storage_cleanup=True)
    async with _storage_stage(settings) as deps:
        event = await _combined(deps, two_second_video)
        video = (await _stored(deps, event)).video
        # removed right after video.stored is published (so a lost publish is retried
        # with the files still there)
        for name in (event.video_ref, clip_name(event.job_id, 1)):
            await _until_missing(deps, name)
    stat = await open_video_store(settings).stat(video.video_key)
    assert stat is not None
    assert (stat.size, stat.metadata["sha256"]) == (video.file_size, video.sha256)


async def test_local_and_s3_falls_back_to_local_only_when_allowed(
    settings: Settings, two_second_video: Path
):
    relay = await FlakyRelay(0, refuse=10**6).start()
    try:
        settings = _settings(
            settings,
            relay.url,
            video_storage_mode="local_and_s3",
            s3_fallback_to_local=True,
            storage_max_retries=1,
        )
        async with _storage_stage(settings) as deps:
            event = await _combined(deps, two_second_video)
            video = (await _stored(deps, event)).video
    finally:
        await relay.stop()
    assert video.local_fallback
    assert video.fallback_reason is not None and "after 2 attempts" in video.fallback_reason
    assert set(video.locations) == {"local"}
    assert (settings.storage_dir / video.video_key).is_file()
