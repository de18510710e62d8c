"""Storing one finished video: the file, its metadata and its thumbnails."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from services.storage import metrics
from services.storage.media import make_thumbnails
from services.storage.upload import LocalFile, RetryPolicy, save_verified
from shared.errors import PermanentError
from shared.events import StoredVideo
from shared.jobview import user_key
from shared.mediaprobe import probe_video, sha256_file
from shared.videostore import SUBTITLE_TYPES, VideoStore, object_key, revision_file

log = logging.getLogger("videogen.storage")


async def store_video(
    store: VideoStore,
    video: Path,
    *,
    user_id: str,
    job_id: str,
    storage_mode: str,
    revision: int = 1,
    thumbnails: bool,
    scratch: Path,
    policy: RetryPolicy,
    subtitles: dict[str, Path] | None = None,
) -> StoredVideo:
    """Save the video (and thumbnails) under the job's keys and describe what was saved.

    Every file is verified after its upload. When the store fails for good and has a
    `fallback` (local_and_s3 with S3_FALLBACK_TO_LOCAL), the files go there instead and
    the result says so; otherwise the job fails with STORAGE_UPLOAD_FAILED.
    """
    info = await asyncio.to_thread(probe_video, video)

    def key(name: str) -> str:
        return object_key(user_id, job_id, revision_file(revision, name))

    files = [
        LocalFile(
            video,
            key("video.mp4"),
            "video/mp4",
            info.file_size,
            info.sha256,
        )
    ]
    thumbnail_keys: dict[str, str] = {}
    if thumbnails:
        written = await asyncio.to_thread(make_thumbnails, video, scratch / "thumbnails")
        for size, path in written.items():
            thumbnail_keys[size] = key(path.name)
            files.append(await _describe(path, thumbnail_keys[size], "image/jpeg"))
    subtitle_keys: dict[str, str] = {}
    for kind, path in (subtitles or {}).items():
        subtitle_keys[kind] = key(f"subtitles.{kind}")
        files.append(await _describe(path, subtitle_keys[kind], SUBTITLE_TYPES[kind]))
    metadata = {
        "job": job_id,
        "revision": str(revision),
        "user": user_key(user_id),
        "duration": f"{info.duration_seconds:.3f}",
        "resolution": f"{info.width}x{info.height}",
    }
    fallback_reason: str | None = None
    try:
        await _save_all(store, files, metadata=metadata, policy=policy, mode=storage_mode)
        saved_to = store
    except PermanentError as exc:
        if store.fallback is None:
            raise
        fallback_reason = exc.message
        log.error("S3 failed for good; keeping the local copy only: %s", exc.message)
        metrics.OPERATIONS.labels(storage_mode, "upload", "fallback").inc()
        await _save_all(store.fallback, files, metadata=metadata, policy=policy, mode=storage_mode)
        saved_to = store.fallback
    return StoredVideo(
        storage_mode=storage_mode,
        video_key=files[0].key,
        thumbnail_keys=thumbnail_keys,
        subtitle_keys=subtitle_keys,
        duration_seconds=info.duration_seconds,
        width=info.width,
        height=info.height,
        fps=info.fps,
        frame_count=info.frame_count,
        file_size=info.file_size,
        sha256=info.sha256,
        locations=saved_to.locations(files[0].key),
        local_fallback=fallback_reason is not None,
        fallback_reason=fallback_reason,
    )


async def _describe(path: Path, key: str, content_type: str) -> LocalFile:
    digest = await asyncio.to_thread(sha256_file, path)
    return LocalFile(path, key, content_type, path.stat().st_size, digest)


async def _save_all(
    store: VideoStore,
    files: list[LocalFile],
    *,
    metadata: dict[str, str],
    policy: RetryPolicy,
    mode: str,
) -> None:
    for file in files:
        await save_verified(store, file, metadata=metadata, policy=policy, mode=mode)
