"""`/api/v1/videos/…`: submit a job, follow it, and get its video, thumbnails and metadata."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from services.gateway import media, schemas, views
from services.gateway.errors import ApiError
from services.gateway.routes_webhooks import accepted_webhook_url
from services.gateway.state import App, Gateway, OwnedJob, User
from services.gateway.submission import fingerprint, new_job, submit
from shared.events import StoredVideo, utc_now
from shared.jobview import JobView
from shared.settings import Settings
from shared.videostore import SUBTITLE_TYPES, StoredObject

router = APIRouter(prefix="/api/v1/videos", tags=["videos"])
# `?revision=k`: that revision's video (status `revisions`); omitted: the latest stored one.
Revision = Annotated[
    int | None, Query(ge=1, le=10_000, description="A revision's number (default: the latest)")
]

_MEDIA_RESPONSES: dict[int | str, dict[str, object]] = {
    206: {"description": "Partial content (Range)"},
    304: {"description": "Not modified"},
    409: {"description": "The job is not completed"},
    416: {"description": "Range not satisfiable"},
}


@router.post(
    "/generate",
    status_code=201,
    response_model=schemas.JobResponse,
    responses={
        200: {"description": "The first job of this Idempotency-Key", "model": schemas.JobResponse},
        409: {"description": "The Idempotency-Key's first job was deleted"},
        429: {"description": "Too many unfinished jobs"},
    },
)
async def generate_video(
    body: schemas.GenerateRequest,
    user: User,
    app: App,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> schemas.JobResponse:
    """Queue a job; the same `Idempotency-Key` within 24 h returns the first job (200)."""
    now = utc_now()
    check_model(body.configuration.model, app.deps.settings)
    webhook_url = await accepted_webhook_url(body.webhook_url, app.deps.settings)
    job = new_job(body, user=user, settings=app.deps.settings, now=now)
    view, created = await submit(
        app,
        job,
        idempotency_key=idempotency_key,
        body_hash=fingerprint(body),
        webhook_url=webhook_url,
    )
    if not created:
        response.status_code = 200
    return views.job_response(view, now=now)


@router.get("/jobs/{job_id}/status", response_model=schemas.JobStatusResponse)
async def job_status(view: OwnedJob) -> schemas.JobStatusResponse:
    return views.job_status(view, now=utc_now())


@router.get(
    "/jobs/{job_id}/video-url",
    response_model=schemas.VideoUrlResponse,
    responses={409: {"description": "The job is not completed"}},
)
async def video_url(
    request: Request, view: OwnedJob, app: App, revision: Revision = None
) -> schemas.VideoUrlResponse:
    """URLs minted per request: presigned S3 URLs (S3_SERVE_MODE=presign), else our routes."""
    video = finished_video(view, revision)
    await app.integrity.verified(app.store, video, job_id=view.job_id)
    presigned = _presigned(app, video.video_key, disposition=None)
    download = _presigned(
        app, video.video_key, disposition=media.content_disposition("attachment", view.config.topic)
    )
    return schemas.VideoUrlResponse(
        job_id=view.job_id,
        status="completed",
        video_url=presigned or _url(request, "stream_video", view, revision),
        download_url=download or _url(request, "download_video", view, revision),
        thumbnail_url=_url(request, "video_thumbnail", view, revision),
        metadata=schemas.VideoUrlMetadata(
            duration=video.duration_seconds,
            quality=view.config.quality,
            format=video.format,
            file_size=video.file_size,
            created_at=view.completed_at or view.created_at,
        ),
    )


@router.get(
    "/jobs/{job_id}/stream",
    name="stream_video",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **_MEDIA_RESPONSES},
)
async def stream_video(
    request: Request, view: OwnedJob, app: App, revision: Revision = None
) -> Response:
    video = finished_video(view, revision)
    stored = await app.integrity.verified(app.store, video, job_id=view.job_id)
    return await _serve(
        app,
        request,
        video.video_key,
        media_type="video/mp4",
        disposition=media.content_disposition("inline"),
        stored=stored,
    )


@router.get(
    "/jobs/{job_id}/download",
    name="download_video",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **_MEDIA_RESPONSES},
)
async def download_video(
    request: Request, view: OwnedJob, app: App, inline: bool = False, revision: Revision = None
) -> Response:
    video = finished_video(view, revision)
    disposition = media.content_disposition("inline" if inline else "attachment", view.config.topic)
    stored = await app.integrity.verified(app.store, video, job_id=view.job_id)
    return await _serve(
        app,
        request,
        video.video_key,
        media_type="video/mp4",
        disposition=disposition,
        stored=stored,
    )


@router.get(
    "/jobs/{job_id}/thumbnail",
    name="video_thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **_MEDIA_RESPONSES},
)
async def video_thumbnail(
    request: Request,
    view: OwnedJob,
    app: App,
    size: Literal["small", "medium", "large"] = "medium",
    revision: Revision = None,
) -> Response:
    key = finished_video(view, revision).thumbnail_keys.get(size)
    if key is None:
        raise ApiError(404, "NOT_FOUND", f"This video has no {size} thumbnail")
    return await _serve(
        app, request, key, media_type="image/jpeg", disposition=media.content_disposition("inline")
    )


@router.get(
    "/jobs/{job_id}/metadata",
    response_model=schemas.VideoMetadataResponse,
    responses={409: {"description": "The job is not completed"}},
)
async def video_metadata(
    request: Request, view: OwnedJob, revision: Revision = None
) -> schemas.VideoMetadataResponse:
    video = finished_video(view, revision)
    thumbnail = _url(request, "video_thumbnail", view, revision)
    joiner = "&" if "?" in thumbnail else "?"
    return schemas.VideoMetadataResponse(
        job_id=view.job_id,
        video=schemas.VideoFacts(
            duration_seconds=video.duration_seconds,
            width=video.width,
            height=video.height,
            fps=video.fps,
            frame_count=video.frame_count,
            file_size=video.file_size,
            format=video.format,
            sha256=video.sha256,
            quality=view.config.quality,
            model=view.model,
        ),
        download_url=_url(request, "download_video", view, revision),
        thumbnail_urls=[f"{thumbnail}{joiner}size={size}" for size in sorted(video.thumbnail_keys)],
        streaming_url=_url(request, "stream_video", view, revision),
        usage=views.usage(view),
        locations=video.locations,
    )


@router.get(
    "/jobs/{job_id}/subtitles",
    name="video_subtitles",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {}, "application/x-subrip": {}}}, **_MEDIA_RESPONSES},
)
async def video_subtitles(
    request: Request,
    view: OwnedJob,
    app: App,
    format: Literal["srt", "vtt"] = "vtt",
    revision: Revision = None,
) -> Response:
    """The video's subtitles (new): one cue per narration sentence, timed per scene."""
    key = finished_video(view, revision).subtitle_keys.get(format)
    if key is None:
        raise ApiError(404, "NOT_FOUND", "This video has no subtitles")
    return await _serve(
        app,
        request,
        key,
        media_type=SUBTITLE_TYPES[format],
        disposition=media.content_disposition("inline"),
    )


def check_model(model: str | None, settings: Settings) -> None:
    """422 for a model the operator did not allow: a job must not pick any endpoint."""
    if model is None or model in settings.allowed_models:
        return
    raise ApiError(
        422,
        "VALIDATION_ERROR",
        f"configuration.model: {model!r} is not an allowed model",
        details={
            "field_errors": [
                {
                    "field": "configuration.model",
                    "type": "model_not_allowed",
                    "message": f"allowed: {', '.join(sorted(settings.allowed_models))}",
                }
            ]
        },
    )


def finished_video(view: JobView, revision: int | None = None) -> StoredVideo:
    """The job's video (or that revision's); 409 while it has none (not completed).

    A job being revised still serves its latest stored video: a revision never takes
    away what was stored before it.
    """
    if revision is not None and view.revisions:
        record = view.revision_record(revision)
        if record is None:
            raise ApiError(404, "NOT_FOUND", f"The job has no revision {revision}")
        if record.video is None:
            raise ApiError(
                409,
                "CONFLICT",
                f"Revision {revision} is {record.status}; it has no video",
                details={"revision": revision, "status": record.status},
            )
        return record.video
    if revision is not None and revision != 1:
        raise ApiError(404, "NOT_FOUND", f"The job has no revision {revision}")
    if view.video is None or (view.status != "completed" and not view.revisions):
        raise ApiError(
            409,
            "CONFLICT",
            f"The job is {view.status}, not completed",
            details=views.not_ready_details(view),
        )
    return view.video


async def _serve(
    app: Gateway,
    request: Request,
    key: str,
    *,
    media_type: str,
    disposition: str,
    stored: StoredObject | None = None,
) -> Response:
    stored = stored or await app.store.stat(key)
    if stored is None:
        raise ApiError(404, "NOT_FOUND", "The stored file is missing")
    return media.file_response(
        read_range=lambda first, last: app.store.open_range(key, first, last),
        stored=stored,
        request_headers=request.headers,
        media_type=media_type,
        disposition=disposition,
    )


def _presigned(app: Gateway, key: str, *, disposition: str | None) -> str | None:
    """A short-lived S3 URL, when the store is S3 and the settings ask to presign."""
    settings = app.deps.settings
    if settings.s3_serve_mode != "presign":
        return None
    expires = timedelta(seconds=settings.s3_url_expiry_seconds)
    return app.store.presigned_get(key, expires=expires, disposition=disposition)


def _url(request: Request, route: str, view: JobView, revision: int | None = None) -> str:
    path = str(request.app.url_path_for(route, job_id=view.job_id))
    return path if revision is None else f"{path}?revision={revision}"
