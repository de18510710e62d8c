"""Request and response bodies of the REST contract, as pydantic models (validation, OpenAPI).

Field names and values are the REST contract's, exactly; fields beyond it are additive.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.plans import DEFAULT_TARGET_MINUTES, MAX_TARGET_MINUTES, MIN_TARGET_MINUTES

Quality = Literal["low", "medium", "high", "ultra"]
Priority = Literal["low", "normal", "high", "urgent"]
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]

# NUL and other control characters reach prompts, logs and file names; none is text.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_CONTROL_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # tab, LF, CR are fine


def _without(characters: str, allowed: str) -> AfterValidator:
    found = re.compile(f"[{characters}]")

    def check(value: str) -> str:
        if found.search(value):
            raise ValueError(f"control characters are not allowed{allowed}")
        return value

    return AfterValidator(check)


SingleLineText = Annotated[
    str, _without(_CONTROL, ""), Field(json_schema_extra={"pattern": f"^[^{_CONTROL}]*$"})
]
MultiLineText = Annotated[
    str,
    _without(_CONTROL_BUT_LINES, " (tab and newlines are)"),
    Field(json_schema_extra={"pattern": f"^[^{_CONTROL_BUT_LINES}]*$"}),
]


class Configuration(BaseModel):
    """What to explain and how; omitted options take the service's defaults."""

    model_config = ConfigDict(extra="forbid")

    topic: SingleLineText = Field(min_length=1, max_length=500)
    context: MultiLineText = Field(min_length=1, max_length=2000)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    quality: Quality | None = None
    use_rag: bool | None = None
    enable_subtitles: bool = True
    enable_thumbnails: bool = True
    output_format: Literal["mp4"] = "mp4"
    # In the contract, but this server has no custom configs or templates: a value other
    # than null is refused rather than stored and ignored.
    custom_config: None = Field(default=None, description="Not supported: must be null.")
    template_id: None = Field(default=None, description="Not supported: must be null.")
    # Reach the LLM prompts of the planner and the coder as "key: value" pairs.
    style_preferences: dict[str, Any] | None = Field(default=None, max_length=20)
    target_minutes: float = Field(
        default=DEFAULT_TARGET_MINUTES,
        ge=MIN_TARGET_MINUTES,
        le=MAX_TARGET_MINUTES,
        description="How long the video should be, in minutes: decides its scene count and depth",
    )

    @field_validator("style_preferences")
    @classmethod
    def _flat_style(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Short "name: value" pairs a prompt can carry; nested data has no place there."""
        for key, item in (value or {}).items():
            if not 1 <= len(key) <= 50:
                raise ValueError("a style preference's name has 1 to 50 characters")
            if not isinstance(item, str | int | float | bool) or len(str(item)) > 200:
                raise ValueError(
                    f"style preference {key!r} must be a string (at most 200 characters), "
                    "a number or a boolean"
                )
        return value


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    configuration: Configuration
    priority: Priority = "normal"
    webhook_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="POSTed the job's status body, signed (Standard Webhooks), when it ends",
    )


class Progress(BaseModel):
    percentage: float
    current_stage: str
    stages_completed: list[str]
    estimated_completion: datetime | None
    processing_time_seconds: float | None


class JobResponse(BaseModel):
    job_id: str
    status: JobStatus
    priority: str
    progress: Progress
    created_at: datetime
    estimated_completion: datetime | None
    batch_id: str | None = None


class StageBody(BaseModel):
    stage: str
    percentage: float
    description: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None


class SceneBody(BaseModel):
    scene_number: int
    status: str
    attempts: int
    title: str
    last_error: str | None
    duration_seconds: float | None
    model: str | None = None
    fallback_reason: str | None = None
    voice: str | None = None
    speech_seconds: float | None = None
    warnings: list[str] = []


class ModelUsageBody(BaseModel):
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class UsageBody(BaseModel):
    """LLM spend of a job: totals, and per stage and model."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    by_stage: dict[str, list[ModelUsageBody]]


class FallbackBody(BaseModel):
    scene: int
    reason: str


class ErrorBody(BaseModel):
    code: str
    stage: str
    message: str
    recoverable: bool
    suggestion: str
    attempts: int
    details: dict[str, Any] | None


MAX_INSTRUCTION_CHARS = 1000


class ReviseRequest(BaseModel):
    """A change to a finished video: to one scene, or (`scene: null`) wherever it applies."""

    model_config = ConfigDict(extra="forbid")

    scene: int | None = Field(
        default=None, ge=1, description="The scene to change; null: the planner decides"
    )
    instruction: MultiLineText = Field(min_length=1, max_length=MAX_INSTRUCTION_CHARS)

    @field_validator("instruction")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the instruction is empty")
        return value.strip()


class RevisionBody(BaseModel):
    revision: int
    instruction: str = Field(description="What the owner asked for (empty for revision 1)")
    scene: int | None = Field(description="The scene the owner named (null: any)")
    scenes_changed: list[int] = Field(description="The scenes re-planned and re-rendered")
    reason: str = Field(description="Why those scenes, as the planner decided")
    status: str = Field(description="processing, completed, failed or cancelled")
    created_at: datetime
    completed_at: datetime | None
    error: ErrorBody | None = None
    video_seconds: float | None = Field(
        default=None, description="Its video's length, once stored (download: `?revision=`)"
    )


class RevisionResponse(BaseModel):
    job_id: str
    status: JobStatus
    revision: int = Field(description="The new revision's number")
    scene: int | None
    instruction: str
    created_at: datetime


class JobStatusResponse(BaseModel):
    job_id: str
    status: JobStatus
    priority: str
    progress: Progress
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    error: ErrorBody | None
    stages: list[StageBody]
    scenes: list[SceneBody]
    model: str | None = Field(description="Which model wrote the scenes, once completed")
    voice: str | None = Field(
        default=None, description="The voice that narrated the scenes (null: silent video)"
    )
    usage: UsageBody = Field(description="LLM calls, tokens and estimated cost")
    fallbacks: list[FallbackBody] = Field(
        description="Scenes the built-in model wrote after the LLM's code kept failing"
    )
    revision: int = Field(default=1, description="The revision being made or last made")
    revisions: list[RevisionBody] = Field(
        default=[], description="Every revision of the video, oldest first (empty: never revised)"
    )


class VideoUrlMetadata(BaseModel):
    duration: float
    quality: str
    format: str
    file_size: int
    created_at: datetime


class VideoUrlResponse(BaseModel):
    job_id: str
    status: JobStatus
    video_url: str
    download_url: str
    thumbnail_url: str
    metadata: VideoUrlMetadata


class VideoFacts(BaseModel):
    duration_seconds: float
    width: int
    height: int
    fps: float
    frame_count: int
    file_size: int
    format: str
    sha256: str
    quality: str
    model: str | None


class VideoMetadataResponse(BaseModel):
    job_id: str
    video: VideoFacts
    download_url: str
    thumbnail_urls: list[str]
    streaming_url: str
    usage: UsageBody
    locations: dict[str, str] = Field(
        default_factory=dict, description="Where the video is stored (local path, s3://…)"
    )


class RewriteBody(BaseModel):
    """One manimgl / old-Manim idiom rewritten into the installed Manim's API before render."""

    line: int = Field(description="line in the attempt's code")
    before: str
    after: str
    rule: str


class FindingBody(BaseModel):
    """A visual problem in a rendered attempt: the layout check's (`source="layout"`,
    LAYOUT_CHECK) or the vision model's (`source="vision"`, VISION_MODEL)."""

    kind: str = Field(
        description="off_frame | overlap | too_small | leftover (layout); unreadable | "
        "mismatch | empty | other (vision)"
    )
    objects: list[str] = Field(description="the objects, by the variable holding them")
    message: str
    time_seconds: float | None = Field(description="when in the scene's clip")
    source: str
    line: int | None = Field(default=None, description="the code line that made the object")
    animation: int | None = Field(
        default=None, description="index of the play/wait after which it shows (layout)"
    )


class AttemptBody(BaseModel):
    attempt: int
    model: str
    status: str = Field(
        description="coded | rendered | failed | flagged (rendered, sent back by the layout check)"
    )
    error: str | None
    error_line: int | None
    fallback_reason: str | None
    rewrites: list[RewriteBody] = Field(default_factory=list)
    findings: list[FindingBody] = Field(default_factory=list)
    revision: int = Field(default=1, description="The job's revision this attempt belongs to")
    cached: bool = Field(
        default=False, description="Its clip came from the render cache (no render ran)"
    )
    renderer: str | None = Field(
        default=None, description="Manim renderer that drew the clip: cairo or opengl"
    )
    renderer_reason: str | None = Field(
        default=None, description="Why that renderer (the RENDERER setting, or what auto saw)"
    )
    slices: int | None = Field(
        default=None, description="renderer replicas its clip was rendered by (1: whole)"
    )
    slicing: str | None = Field(default=None, description="why it was sliced, or why not")


class BeatBody(BaseModel):
    text: str
    start_seconds: float
    duration_seconds: float
    spoken_seconds: float


class SceneDetail(BaseModel):
    scene_number: int
    title: str
    status: str
    model: str | None
    fallback_reason: str | None
    attempts: list[AttemptBody]
    errors: list[str]
    voice: str | None = None
    speech_seconds: float | None = None
    beats: list[BeatBody] = Field(
        default=[], description="The spoken sentences, each with its start and duration"
    )
    warnings: list[str] = []
    usage: list[ModelUsageBody]
    plan: dict[str, object] | None = Field(
        description="Storyboard, technical plan and narration (null once artifacts expire)"
    )


class ScenesResponse(BaseModel):
    job_id: str
    scenes: list[SceneDetail]
    usage: UsageBody


class SceneCodeAttempt(BaseModel):
    attempt: int
    model: str
    status: str
    error: str | None
    fallback_reason: str | None
    code: str | None = Field(description="null once artifacts expire")


class SceneCodeResponse(BaseModel):
    job_id: str
    scene_number: int
    attempts: list[SceneCodeAttempt]


class JobListResponse(BaseModel):
    jobs: list[JobResponse]
    total_count: int
    page: int
    items_per_page: int
    has_next: bool
    has_previous: bool


class CancelResponse(BaseModel):
    success: bool
    message: str
    job_id: str
    previous_status: JobStatus
    # "completed": a revision was being made; it is cancelled and the job keeps its video
    new_status: Literal["cancelled", "completed"]
    cancelled_at: datetime


class DeleteResponse(BaseModel):
    success: bool
    message: str
    job_id: str
    deleted_at: datetime


class LogLine(BaseModel):
    timestamp: datetime
    level: str
    stage: str
    message: str


class LogPagination(BaseModel):
    offset: int
    limit: int
    total_count: int
    returned_count: int
    has_more: bool


class JobLogsResponse(BaseModel):
    job_id: str
    logs: list[LogLine]
    pagination: LogPagination


class HealthResponse(BaseModel):
    status: str
    service: str = "gateway"


class ReadyResponse(BaseModel):
    status: str = Field(description="ready, or degraded while a condition is active")
    nats: str
    stream: str
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description="Active conditions, e.g. disk_pressure (new jobs get 507 meanwhile)",
    )


class ErrorInfo(BaseModel):
    code: str = Field(description="VALIDATION_ERROR, UNAUTHORIZED, NOT_FOUND, CONFLICT, …")
    message: str
    details: dict[str, Any] | None
    timestamp: datetime


class ErrorResponse(BaseModel):
    """The contract's shape of every 4xx and 5xx."""

    status: Literal["error"]
    message: str
    error: ErrorInfo
    request_id: str
