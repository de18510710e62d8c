"""Storage: video.combined → progress (storage) + video.stored."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from services.storage import metrics
from services.storage.store import store_video
from services.storage.upload import RetryPolicy
from shared.artifacts import ArtifactMissing
from shared.broker import CONSUMERS
from shared.diskspace import start_disk_guard
from shared.errors import PermanentError
from shared.events import VideoCombined, VideoStored
from shared.logs import timed
from shared.service import StageDeps
from shared.storage_modes import open_video_store
from shared.tempdirs import owned_tempdir, sweep_orphans

log = logging.getLogger("videogen.storage")
TEMP_PREFIX = "videogen-store-"


def register(deps: StageDeps) -> None:
    settings = deps.settings
    mode = settings.video_storage_mode
    store = open_video_store(settings)
    sweep_orphans(TEMP_PREFIX)  # folders of storage processes that were killed
    writes_to = [Path(tempfile.gettempdir())]
    if mode != "s3_only":
        writes_to.append(settings.storage_dir)
    disk = start_disk_guard(deps, writes_to)
    policy = RetryPolicy(
        retries=settings.storage_max_retries, base_seconds=settings.storage_retry_base_seconds
    )

    async def on_video_combined(event: VideoCombined) -> None:
        await deps.bus.progress(event, "storage", revision=event.revision)
        await disk.check()
        with owned_tempdir(TEMP_PREFIX) as scratch:
            video = await _fetch(deps, event, scratch / "video.mp4", mode=mode)
            subtitles = await _subtitles(deps, event, scratch)
            with timed(log, "storage", mode=mode) as outcome:
                stored = await store_video(
                    store,
                    video,
                    user_id=event.user_id,
                    job_id=event.job_id,
                    revision=event.context.revision,
                    storage_mode=mode,
                    scratch=scratch,
                    policy=policy,
                    thumbnails=settings.enable_thumbnails and event.context.enable_thumbnails,
                    subtitles=subtitles,
                )
                outcome.update(
                    bytes=stored.file_size,
                    key=stored.video_key,
                    local_fallback=stored.local_fallback,
                )
        await deps.bus.publish(
            VideoStored(
                job_id=event.job_id,
                user_id=event.user_id,
                video=stored,
                model=event.context.scene_model,
                revision=event.revision,
                context=event.context,
            )
        )
        log.info("job completed", extra={"video_seconds": round(stored.duration_seconds, 2)})
        # Only after every copy was verified; a local fallback keeps the artifacts so the
        # job can be stored in S3 again by replaying its video.combined.
        if settings.storage_cleanup and not stored.local_fallback:
            removed = await deps.artifacts.delete_job(event.job_id)
            log.info("intermediate artifacts removed", extra={"count": removed})

    deps.runner.subscribe(
        deps.broker, CONSUMERS["storage"], VideoCombined, on_video_combined, stage="storage"
    )


async def _fetch(deps: StageDeps, event: VideoCombined, target: Path, *, mode: str) -> Path:
    """The combined video from the artifact store, counted as a download."""
    started = time.perf_counter()
    try:
        video = await deps.artifacts.get_file(event.video_ref, target)
    except ArtifactMissing as exc:
        raise PermanentError(
            f"The combined video {event.video_ref} is no longer stored",
            code="VIDEO_MISSING",
            suggestion="Run the job again; its intermediate files were removed.",
        ) from exc
    metrics.observe(
        mode=mode,
        operation="download",
        outcome="success",
        seconds=time.perf_counter() - started,
        size=video.stat().st_size,
    )
    return video


async def _subtitles(deps: StageDeps, event: VideoCombined, scratch: Path) -> dict[str, Path]:
    """The renderer's subtitle files, stored beside the video (none when not made)."""
    files: dict[str, Path] = {}
    for kind, ref in (("srt", event.subtitles_srt_ref), ("vtt", event.subtitles_vtt_ref)):
        if ref is not None:
            try:
                files[kind] = await deps.artifacts.get_file(ref, scratch / f"subtitles.{kind}")
            except ArtifactMissing:
                log.warning("subtitle file %s is gone; storing the video without it", ref)
    return files
