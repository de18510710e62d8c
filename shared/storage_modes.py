"""VIDEO_STORAGE_MODE → the video store: local disk, S3, or both mirrored.

Its own module because it needs both halves (shared/videostore.py and shared/s3store.py,
which builds on the first), so neither has to import the other lazily.
"""

from __future__ import annotations

from shared.s3store import S3VideoStore
from shared.settings import Settings
from shared.videostore import LocalVideoStore, MirroredVideoStore, VideoStore


def open_video_store(settings: Settings) -> VideoStore:
    """The store VIDEO_STORAGE_MODE asks for (S3 settings are validated at load)."""
    local = LocalVideoStore(settings.storage_dir)
    if settings.video_storage_mode == "local_only":
        return local
    remote = S3VideoStore.from_settings(settings)
    if settings.video_storage_mode == "s3_only":
        return remote
    return MirroredVideoStore(local, remote, fallback=settings.s3_fallback_to_local)
