"""Storage: video.combined → progress (storage) + video.stored."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from services.storage.store import store_video
from shared.broker import CONSUMERS
from shared.events import VideoCombined, VideoStored
from shared.logs import timed
from shared.service import StageDeps
from shared.videostore import LocalVideoStore

log = logging.getLogger("videogen.storage")


def register(deps: StageDeps) -> None:
    store = LocalVideoStore(deps.settings.storage_dir)

    async def on_video_combined(event: VideoCombined) -> None:
        await deps.bus.progress(event, "storage")
        with tempfile.TemporaryDirectory(prefix="videogen-store-") as folder:
            scratch = Path(folder)
            video = await deps.artifacts.get_file(event.video_ref, scratch / "video.mp4")
            with timed(log, "storage", mode=deps.settings.video_storage_mode) as outcome:
                stored = await store_video(
                    store, video, user_id=event.user_id, job_id=event.job_id,
                    storage_mode=deps.settings.video_storage_mode,
                    thumbnails=event.context.enable_thumbnails, scratch=scratch,
                )
                outcome.update(bytes=stored.file_size, key=stored.video_key)
        await deps.bus.publish(
            VideoStored(
                job_id=event.job_id, user_id=event.user_id, video=stored,
                model=event.context.scene_model,
            )
        )
        log.info("job completed", extra={"video_seconds": round(stored.duration_seconds, 2)})

    deps.runner.subscribe(
        deps.broker, CONSUMERS["storage"], VideoCombined, on_video_combined, stage="storage"
    )
