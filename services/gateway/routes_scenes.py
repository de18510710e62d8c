"""`/api/v1/videos/jobs/{id}/scenes…`: each scene's plan, attempts, errors, model and code.

Answered from the job's recorded events (folded by `shared.scene_report`) and its
artifacts, so the plan → code → render → fix loop can be debugged after the fact.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Path

from services.gateway import schemas
from services.gateway.errors import ApiError
from services.gateway.outage import bounded
from services.gateway.state import App, OwnedJob
from shared.artifacts import ArtifactMissing, Artifacts
from shared.history import events_of, read_job
from shared.scene_report import SceneReport, scene_reports, usage_totals

router = APIRouter(prefix="/api/v1/videos", tags=["scenes"])


@router.get("/jobs/{job_id}/scenes", response_model=schemas.ScenesResponse)
async def job_scenes(view: OwnedJob, app: App) -> schemas.ScenesResponse:
    events = events_of(await bounded(read_job(app.deps.js, view.job_id)))
    scenes = [
        await bounded(_detail(report, app.deps.artifacts)) for report in scene_reports(events)
    ]
    usage = schemas.UsageBody.model_validate(msgspec.to_builtins(usage_totals(events)))
    return schemas.ScenesResponse(job_id=view.job_id, scenes=scenes, usage=usage)


@router.get("/jobs/{job_id}/scenes/{scene_number}/code", response_model=schemas.SceneCodeResponse)
async def scene_code(
    view: OwnedJob, app: App, scene_number: Annotated[int, Path(ge=1, le=100)]
) -> schemas.SceneCodeResponse:
    """The code of every attempt at one scene, with each attempt's outcome."""
    events = events_of(await bounded(read_job(app.deps.js, view.job_id)))
    report = next((r for r in scene_reports(events) if r.scene_number == scene_number), None)
    if report is None:
        raise ApiError(404, "NOT_FOUND", f"The job has no scene {scene_number}")
    attempts = [
        schemas.SceneCodeAttempt(
            attempt=attempt.attempt,
            model=attempt.model,
            status=attempt.status,
            error=attempt.error,
            fallback_reason=attempt.fallback_reason,
            code=await bounded(_text(app.deps.artifacts, attempt.code_ref)),
        )
        for attempt in report.attempts
    ]
    return schemas.SceneCodeResponse(
        job_id=view.job_id, scene_number=scene_number, attempts=attempts
    )


async def _detail(report: SceneReport, artifacts: Artifacts) -> schemas.SceneDetail:
    plan_text = await _text(artifacts, report.plan_ref) if report.plan_ref else None
    body = msgspec.to_builtins(report)
    body["plan"] = msgspec.json.decode(plan_text) if plan_text else None
    return schemas.SceneDetail.model_validate(body)


async def _text(artifacts: Artifacts, name: str) -> str | None:
    try:
        return (await artifacts.get_bytes(name)).decode()
    except ArtifactMissing:
        return None
