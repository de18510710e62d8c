"""Storing one finished video: the file, its metadata and its thumbnails."""

from __future__ import annotations

from pathlib import Path

from services.storage.media import make_thumbnails, probe_video
from shared.events import StoredVideo
from shared.videostore import VideoStore, object_key


async def store_video(
    store: VideoStore,
    video: Path,
    *,
    user_id: str,
    job_id: str,
    storage_mode: str,
    thumbnails: bool,
    scratch: Path,
) -> StoredVideo:
    """Save the video (and thumbnails) under the job's keys and describe what was saved."""
    info = probe_video(video)
    video_key = object_key(user_id, job_id, "video.mp4")
    await store.save(video_key, video, content_type="video/mp4")
    thumbnail_keys: dict[str, str] = {}
    if thumbnails:
        for size, path in make_thumbnails(video, scratch).items():
            key = object_key(user_id, job_id, path.name)
            await store.save(key, path, content_type="image/jpeg")
            thumbnail_keys[size] = key
    return StoredVideo(
        storage_mode=storage_mode,
        video_key=video_key,
        thumbnail_keys=thumbnail_keys,
        duration_seconds=info.duration_seconds,
        width=info.width,
        height=info.height,
        fps=info.fps,
        frame_count=info.frame_count,
        file_size=info.file_size,
        sha256=info.sha256,
    )
