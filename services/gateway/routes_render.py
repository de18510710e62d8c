"""`POST /api/v1/videos/render` (new): render a client's own Manim code, no planner or coder.

The job is an ordinary job — same view, status, media and cancel routes — whose scenes
start life as `scene.coded` events, so it goes through the renderer's jail, the combine
step and storage exactly like a generated video. The code is checked up front (size,
syntax, scene classes) so a client learns at once what is wrong instead of from a failed
job. The static code policy is not applied: it is a lint for LLM-written code, and real
Manim files use `os.path`, `sys` and `pathlib`; the renderer's jail is what contains a
client's code.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import schemas, views
from services.gateway.errors import ApiError
from services.gateway.openapi import code_limit
from services.gateway.outage import BUS_ERRORS, bounded, publish_surely
from services.gateway.render_narration import narrated_scenes
from services.gateway.state import App, User
from services.gateway.submission import admit, not_queued, open_job
from shared import artifacts
from shared.api_rewrites import rewrite_api
from shared.events import Event, JobConfig, JobContext, ProgressReported, SceneCoded, utc_now
from shared.scene_classes import scene_class_names
from shared.stages import BY_NAME

router = APIRouter(prefix="/api/v1/videos", tags=["videos"])

MAX_NARRATION_CHARS = 5_000
USER_MODEL = "user"  # what wrote the scenes of a render-only job


class RenderRequest(BaseModel):
    """A client's Manim file and which of its scenes to render."""

    model_config = ConfigDict(extra="forbid")

    # Its maxLength in the OpenAPI document follows MAX_REQUEST_BYTES (openapi.code_limit).
    code: str = Field(min_length=1, description="A Python file with Manim scene classes")
    scene: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The class to render; null: every scene, in order",
    )
    quality: schemas.Quality | None = None
    enable_thumbnails: bool = True
    priority: schemas.Priority = "normal"
    narration: dict[str, str] | None = Field(
        default=None,
        max_length=100,
        description="What each scene class says, {class: text}: those jobs are narrated "
        "(speech muxed, clips sized to it, subtitles from the beats); null: silent",
    )
    fix_api: bool = Field(
        default=False,
        description="Rewrite manimgl / old Manim CE idioms into the installed Manim's API "
        "before rendering; each rewrite is listed in the job's /scenes attempts",
    )


@router.post(
    "/render",
    status_code=201,
    response_model=schemas.JobResponse,
    responses={429: {"description": "Too many unfinished jobs"}},
)
async def render_video(body: RenderRequest, user: User, app: App) -> schemas.JobResponse:
    """Queue a render-only job for the client's own scene code (new)."""
    settings = app.deps.settings
    if len(body.code) > code_limit(settings):
        raise _invalid("code", f"at most {code_limit(settings)} characters", "string_too_long")
    # Manim is imported on the first use (seconds): off the event loop.
    code, rewrites = (
        await asyncio.to_thread(rewrite_api, body.code) if body.fix_api else (body.code, [])
    )
    classes = _scenes_to_render(code, body.scene)
    narration = _narration(body.narration, classes)
    if not settings.narration_on:
        narration = None  # narration is off here: the job is silent, as without it
    now = utc_now()
    admit(app, user)
    job_id = str(uuid.uuid4())
    quality = body.quality or settings.default_quality
    config = JobConfig(
        topic=f"Render: {', '.join(classes)}"[:500],
        context="A render-only job: the client's own Manim code",
        model=USER_MODEL,
        quality=quality,
        enable_subtitles=narration is not None,
        enable_thumbnails=body.enable_thumbnails,
    )
    context = JobContext(
        quality=quality,
        scene_model=USER_MODEL,
        enable_subtitles=narration is not None,
        enable_thumbnails=body.enable_thumbnails,
        priority=body.priority,
        narrate=narration is not None,
    )
    view = await open_job(
        app,
        job_id=job_id,
        user=user,
        config=config,
        priority=body.priority,
        now=now,
        kind="render",
    )
    try:
        code_ref = await bounded(
            app.deps.artifacts.put_bytes(artifacts.user_code_name(job_id), code.encode())
        )
        events: list[Event] = [_progress(job_id, user, "initializing")]
        if narration is not None:  # spoken first: the narrator, then the coder passes it on
            events += await narrated_scenes(
                app.deps.artifacts,
                job_id=job_id,
                user=user,
                context=context,
                code_ref=code_ref,
                narration=narration,
            )
        else:
            events += [
                SceneCoded(
                    job_id=job_id,
                    user_id=user,
                    context=context,
                    scene_number=number,
                    scene_count=len(classes),
                    attempt=1,
                    class_name=class_name,
                    code_ref=code_ref,
                    plan_ref="",
                    model=USER_MODEL,
                    repairable=False,
                    rewrites=rewrites,
                )
                for number, class_name in enumerate(classes, start=1)
            ]
        for event in events:
            await publish_surely(app.deps.bus, event)
    except BUS_ERRORS as exc:
        raise await not_queued(app, view) from exc
    return views.job_response(view, now=now)


def _scenes_to_render(code: str, scene: str | None) -> list[str]:
    """The scene classes to render, or a 422 that says what to fix."""
    try:
        classes = scene_class_names(code)
    except SyntaxError as exc:
        raise _invalid(
            "code", f"SyntaxError: {exc.msg} (line {exc.lineno})", "syntax_error"
        ) from None
    except ValueError as exc:  # e.g. NUL bytes
        raise _invalid("code", str(exc), "value_error") from None
    if not classes:
        raise _invalid("code", "the code defines no Manim Scene subclass", "no_scene")
    if scene is None:
        return classes
    if scene not in classes:
        raise _invalid(
            "scene",
            f"{scene} is not a scene class of the code (found: {', '.join(classes)})",
            "unknown_scene",
        )
    return [scene]


def _narration(given: dict[str, str] | None, classes: list[str]) -> dict[str, str] | None:
    """{class: text} for every scene to render, or None (silent); 422 for unknown classes."""
    if given is None:
        return None
    unknown = sorted(set(given) - set(classes))
    if unknown:
        raise _invalid(
            "narration",
            f"narration for {', '.join(unknown)}, which is not a "
            f"scene to render (rendering: {', '.join(classes)})",
            "unknown_scene",
        )
    too_long = [name for name, text in given.items() if len(text) > MAX_NARRATION_CHARS]
    if too_long:
        raise _invalid(
            "narration",
            f"narration of {too_long[0]} is longer than {MAX_NARRATION_CHARS} characters",
            "too_long",
        )
    return {name: given.get(name, "") for name in classes}


def _invalid(field: str, messages: str | list[str], kind: str) -> ApiError:
    messages = [messages] if isinstance(messages, str) else messages
    return ApiError(
        422,
        "VALIDATION_ERROR",
        messages[0],
        details={
            "field_errors": [
                {"field": field, "message": message, "type": kind} for message in messages
            ]
        },
    )


def _progress(job_id: str, user: str, stage: str) -> ProgressReported:
    return ProgressReported(
        job_id=job_id,
        user_id=user,
        stage=stage,
        percentage=BY_NAME[stage].percentage,
        description=BY_NAME[stage].description,
    )
