"""Request and response bodies of the REST contract, as pydantic models (validation, OpenAPI).

Field names and values are the REST contract's, exactly; fields beyond it are additive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Quality = Literal["low", "medium", "high", "ultra"]
Priority = Literal["low", "normal", "high", "urgent"]
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]


class Configuration(BaseModel):
    """What to explain and how; omitted options take the service's defaults."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1, max_length=500)
    context: str = Field(min_length=1, max_length=2000)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    quality: Quality | None = None
    use_rag: bool | None = None
    enable_subtitles: bool = True
    enable_thumbnails: bool = True
    output_format: Literal["mp4"] = "mp4"
    custom_config: dict[str, Any] | None = None
    template_id: str | None = Field(default=None, max_length=200)
    style_preferences: dict[str, Any] | None = None


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    configuration: Configuration
    priority: Priority = "normal"


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
    usage: UsageBody = Field(description="LLM calls, tokens and estimated cost")
    fallbacks: list[FallbackBody] = Field(
        description="Scenes the built-in model wrote after the LLM's code kept failing"
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
    """A visual problem the vision model saw in a rendered attempt (VISION_MODEL)."""

    kind: str
    objects: list[str]
    message: str
    time_seconds: float | None = Field(description="when in the scene's clip")
    source: str


class AttemptBody(BaseModel):
    attempt: int
    model: str
    status: str
    error: str | None
    error_line: int | None
    fallback_reason: str | None
    rewrites: list[RewriteBody] = Field(default_factory=list)
    findings: list[FindingBody] = Field(default_factory=list)


class SceneDetail(BaseModel):
    scene_number: int
    title: str
    status: str
    model: str | None
    fallback_reason: str | None
    attempts: list[AttemptBody]
    errors: list[str]
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
    new_status: Literal["cancelled"]
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
    status: str
    nats: str
    stream: str
