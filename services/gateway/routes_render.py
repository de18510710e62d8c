"""`POST /api/v1/videos/render` (new): render a client's own Manim code, no planner or coder.

The job is an ordinary job — same view, status, media and cancel routes — whose scenes
start life as `scene.coded` events, so it goes through the renderer's sandbox, the
combine step and storage exactly like a generated video. The code is checked up front
(size, syntax, scene classes, the render policy) so a client learns at once what is
wrong instead of from a failed job; the renderer checks the policy again regardless.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter
from nats.errors import Error as NatsError
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import schemas, views
from services.gateway.errors import ApiError
from services.gateway.state import App, User
from services.gateway.submission import admit, not_queued, open_job
from shared import artifacts
from shared.api_rewrites import rewrite_api
from shared.code_policy import policy_violations
from shared.events import Event, JobConfig, JobContext, ProgressReported, SceneCoded, utc_now
from shared.scene_classes import scene_class_names
from shared.stages import BY_NAME

router = APIRouter(prefix="/api/v1/videos", tags=["videos"])

MAX_CODE_CHARS = 200_000
USER_MODEL = "user"  # what wrote the scenes of a render-only job


class RenderRequest(BaseModel):
    """A client's Manim file and which of its scenes to render."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS,
                      description="A Python file with Manim scene classes")
    scene: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                              description="The class to render; null: every scene, in order")
    quality: schemas.Quality | None = None
    enable_thumbnails: bool = True
    priority: schemas.Priority = "normal"
    fix_api: bool = Field(
        default=False,
        description="Rewrite manimgl / old Manim CE idioms into the installed Manim's API "
        "before rendering; each rewrite is listed in the job's /scenes attempts",
    )


@router.post("/render", status_code=201, response_model=schemas.JobResponse)
async def render_video(body: RenderRequest, user: User, app: App) -> schemas.JobResponse:
    """Queue a render-only job for the client's own scene code (new)."""
    # Manim is imported on the first use (seconds): off the event loop.
    code, rewrites = await asyncio.to_thread(rewrite_api, body.code) if body.fix_api \
        else (body.code, [])
    classes = _scenes_to_render(code, body.scene)
    settings = app.deps.settings
    now = utc_now()
    admit(app, user)
    job_id = str(uuid.uuid4())
    quality = body.quality or settings.default_quality
    config = JobConfig(
        topic=f"Render: {', '.join(classes)}"[:500],
        context="A render-only job: the client's own Manim code",
        model=USER_MODEL,
        quality=quality,
        enable_subtitles=False,
        enable_thumbnails=body.enable_thumbnails,
    )
    context = JobContext(
        quality=quality, scene_model=USER_MODEL, enable_subtitles=False,
        enable_thumbnails=body.enable_thumbnails,
    )
    view = await open_job(
        app, job_id=job_id, user=user, config=config, priority=body.priority, now=now,
        kind="render",
    )
    try:
        code_ref = await app.deps.artifacts.put_bytes(
            artifacts.user_code_name(job_id), code.encode()
        )
        events: list[Event] = [_progress(job_id, user, "initializing")]
        events += [
            SceneCoded(
                job_id=job_id, user_id=user, context=context, scene_number=number,
                scene_count=len(classes), attempt=1, class_name=class_name,
                code_ref=code_ref, plan_ref="", model=USER_MODEL, repairable=False,
                rewrites=rewrites,
            )
            for number, class_name in enumerate(classes, start=1)
        ]
        for event in events:
            await app.deps.bus.publish(event)
    except (NatsError, TimeoutError) as exc:
        raise await not_queued(app, view) from exc
    return views.job_response(view, now=now)


def _scenes_to_render(code: str, scene: str | None) -> list[str]:
    """The scene classes to render, or a 422 that says what to fix."""
    try:
        classes = scene_class_names(code)
    except SyntaxError as exc:
        raise _invalid("code", f"SyntaxError: {exc.msg} (line {exc.lineno})",
                       "syntax_error") from None
    except ValueError as exc:  # e.g. NUL bytes
        raise _invalid("code", str(exc), "value_error") from None
    violations = policy_violations(code)
    if violations:
        raise _invalid("code", violations, "policy_violation")
    if not classes:
        raise _invalid("code", "the code defines no Manim Scene subclass", "no_scene")
    if scene is None:
        return classes
    if scene not in classes:
        raise _invalid("scene", f"{scene} is not a scene class of the code "
                       f"(found: {', '.join(classes)})", "unknown_scene")
    return [scene]


def _invalid(field: str, messages: str | list[str], kind: str) -> ApiError:
    messages = [messages] if isinstance(messages, str) else messages
    return ApiError(
        422, "VALIDATION_ERROR", messages[0],
        details={"field_errors": [
            {"field": field, "message": message, "type": kind} for message in messages
        ]},
    )


def _progress(job_id: str, user: str, stage: str) -> ProgressReported:
    return ProgressReported(
        job_id=job_id, user_id=user, stage=stage, percentage=BY_NAME[stage].percentage,
        description=BY_NAME[stage].description,
    )
