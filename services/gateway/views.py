"""Job views → the contract's response bodies. Pure: the time is passed in."""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.gateway import schemas
from services.gateway.projection import processing_seconds, stages_completed
from shared.events import JobError
from shared.jobview import JobView, RevisionRecord, StageRecord
from shared.redact import redact, redact_value
from shared.scene_report import total_usage


def progress(view: JobView, *, now: datetime) -> schemas.Progress:
    return schemas.Progress(
        percentage=round(view.percentage, 2),
        current_stage=view.current_stage,
        stages_completed=stages_completed(view),
        estimated_completion=_estimated_completion(view),
        processing_time_seconds=processing_seconds(view, now=now),
    )


def job_response(view: JobView, *, now: datetime) -> schemas.JobResponse:
    return schemas.JobResponse(
        job_id=view.job_id,
        status=view.status,  # type: ignore[arg-type]
        priority=view.priority,
        progress=progress(view, now=now),
        created_at=view.created_at,
        estimated_completion=_estimated_completion(view),
    )


def job_status(view: JobView, *, now: datetime) -> schemas.JobStatusResponse:
    return _status(view, now=now).model_copy(
        update={
            "revision": view.revision,
            "revisions": [_revision(record) for record in view.revisions],
        }
    )


def _revision(record: RevisionRecord) -> schemas.RevisionBody:
    return schemas.RevisionBody(
        revision=record.revision,
        instruction=record.instruction,
        scene=record.scene,
        scenes_changed=record.scenes_changed,
        reason=record.reason,
        status=record.status,
        created_at=record.created_at,
        completed_at=record.completed_at,
        error=None if record.error is None else _error(record.error),
        video_seconds=None if record.video is None else record.video.duration_seconds,
    )


def _error(error: JobError) -> schemas.ErrorBody:
    # Events are scrubbed when published; this covers events stored before that.
    return schemas.ErrorBody(
        code=error.code,
        stage=error.stage,
        message=redact(error.message),
        recoverable=error.recoverable,
        suggestion=redact(error.suggestion),
        attempts=error.attempts,
        details=redact_value(error.details),
    )


def _status(view: JobView, *, now: datetime) -> schemas.JobStatusResponse:
    error = view.error
    return schemas.JobStatusResponse(
        job_id=view.job_id,
        status=view.status,  # type: ignore[arg-type]
        priority=view.priority,
        progress=progress(view, now=now),
        created_at=view.created_at,
        updated_at=view.updated_at,
        completed_at=view.completed_at,
        error=None if error is None else _error(error),
        stages=[_stage(record) for record in view.stages],
        scenes=[
            schemas.SceneBody(
                scene_number=scene.scene_number,
                status=scene.status,
                attempts=scene.attempts,
                title=scene.title,
                last_error=scene.last_error and redact(scene.last_error),
                duration_seconds=scene.duration_seconds,
                model=scene.model,
                fallback_reason=scene.fallback_reason,
                voice=scene.voice,
                speech_seconds=scene.speech_seconds,
                warnings=scene.warnings,
            )
            for _, scene in sorted(view.scenes.items())
        ],
        model=view.model,
        voice=", ".join(view.voices) or None,
        usage=usage(view),
        fallbacks=[
            schemas.FallbackBody(scene=number, reason=scene.fallback_reason)
            for number, scene in sorted(view.scenes.items())
            if scene.fallback_reason
        ],
    )


def usage(view: JobView) -> schemas.UsageBody:
    totals = total_usage((entry.stage, entry.usage) for entry in view.usage.values())
    return schemas.UsageBody.model_validate(msgspec.to_builtins(totals))


def not_ready_details(view: JobView) -> dict[str, object]:
    """What a 409 on a job's media says about where the job is."""
    return {
        "status": view.status,
        "progress": round(view.percentage, 2),
        "current_stage": view.current_stage,
    }


def _stage(record: StageRecord) -> schemas.StageBody:
    duration = (
        None
        if record.finished_at is None
        else round((record.finished_at - record.started_at).total_seconds(), 3)
    )
    return schemas.StageBody(
        stage=record.stage,
        percentage=record.percentage,
        description=record.description,
        started_at=record.started_at,
        finished_at=record.finished_at,
        duration_seconds=duration,
    )


def _estimated_completion(view: JobView) -> datetime | None:
    return view.completed_at or view.estimated_completion
