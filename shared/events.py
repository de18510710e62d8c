"""The events stages exchange, one msgspec Struct each.

Every event carries the job it belongs to and the owner; pipeline events also carry a
`JobContext` so no stage has to look configuration up. Large things (plans, code,
clips, videos) are never inside an event: events carry artifact names.

Schema evolution: new fields get defaults, and unknown fields are ignored on decode, so
services can be upgraded one at a time. Bump `SCHEMA_VERSION` on incompatible change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from shared.model import ModelUsage

SCHEMA_VERSION = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobConfig(msgspec.Struct, kw_only=True):
    """What the client asked for (the contract's `configuration`)."""

    topic: str
    context: str
    model: str | None = None
    quality: str = "medium"
    use_rag: bool = False
    enable_subtitles: bool = True
    enable_thumbnails: bool = True
    output_format: str = "mp4"
    custom_config: dict[str, Any] | None = None
    template_id: str | None = None
    style_preferences: dict[str, Any] | None = None


class JobContext(msgspec.Struct, kw_only=True):
    """The slice of a job's configuration every downstream stage needs."""

    quality: str
    scene_model: str
    enable_subtitles: bool = True
    enable_thumbnails: bool = True
    use_rag: bool = False


class Event(msgspec.Struct, kw_only=True, tag_field="event_type"):
    """Fields every event has. `dedup_key` makes a redelivered handler's output a no-op."""

    type: ClassVar[str]
    job_id: str
    user_id: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime = msgspec.field(default_factory=utc_now)

    def dedup_key(self) -> str:
        """Stable id of this logical output, used as the JetStream message id."""
        return f"{self.job_id}:{self.type}"


class JobRequested(Event, tag="job.requested"):
    """The gateway accepted a job; the planner starts on it."""

    type: ClassVar[str] = "job.requested"
    config: JobConfig
    context: JobContext
    priority: str = "normal"


class ProgressReported(Event, tag="progress"):
    """A stage moved a job forward. The gateway projects these into `/status`."""

    type: ClassVar[str] = "progress"
    stage: str
    percentage: float
    description: str
    scene: int | None = None
    detail: str | None = None
    revision: str = ""  # set by combining and storage: a replayed job reports them again

    def dedup_key(self) -> str:
        return (
            f"{self.job_id}:progress:{self.stage}:{self.scene}:{self.percentage:.2f}"
            f":{self.revision}"
        )


class ScenePlanned(Event, tag="scene.planned"):
    """One scene's plan is written (artifact `plan_ref`); the coder writes its code."""

    type: ClassVar[str] = "scene.planned"
    context: JobContext
    scene_number: int
    scene_count: int
    title: str
    plan_ref: str

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.scene_number}"


class ApiRewrite(msgspec.Struct, kw_only=True, frozen=True):
    """One manimgl / old-Manim idiom rewritten into the installed Manim's API before render.

    `line` is where it stood in the code when it was rewritten; `rule` names the table entry.
    """

    line: int
    before: str
    after: str
    rule: str


class SceneCoded(Event, tag="scene.coded"):
    """Code for one attempt at one scene is written (artifact `code_ref`)."""

    type: ClassVar[str] = "scene.coded"
    context: JobContext
    scene_number: int
    scene_count: int
    attempt: int
    class_name: str
    code_ref: str
    plan_ref: str
    model: str
    # Set when this is the built-in model's stand-in for a scene the job's model could not
    # make work (SCENE_FALLBACK=builtin): why it fell back.
    fallback_reason: str | None = None
    # False for a client's own code (render-only jobs): a failed render is final, there is
    # no plan to repair it from.
    repairable: bool = True
    # Published by `videogen replay`: render even if the render cache has this code.
    replayed: bool = False
    # Idioms of manimgl and older Manim rewritten in this attempt's code before it was checked.
    rewrites: list[ApiRewrite] = []

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}"


class UsageRecorded(Event, tag="usage.recorded"):
    """LLM calls and tokens a stage spent on a job (`scene` set for per-scene work).

    Emitted only when a model was actually called; the built-in model costs nothing.
    """

    type: ClassVar[str] = "usage.recorded"
    stage: str  # planning | scenario_creation | code_generation | repair
    usage: list[ModelUsage]
    scene: int | None = None
    attempt: int | None = None

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.stage}:{self.scene}:{self.attempt}"


class SceneRendered(Event, tag="scene.rendered"):
    """One scene rendered to a clip (artifact `clip_ref`)."""

    type: ClassVar[str] = "scene.rendered"
    context: JobContext
    scene_number: int
    scene_count: int
    attempt: int
    clip_ref: str
    duration_seconds: float
    render_seconds: float

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}"


class SceneFinding(msgspec.Struct, kw_only=True, frozen=True):
    """One visual problem seen in a rendered scene (by the vision model: `source="vision"`)."""

    kind: str  # off_frame | overlap | too_small | unreadable | mismatch | empty | other
    objects: list[str] = []
    message: str
    time_seconds: float | None = None  # when in the scene's clip it shows
    source: str = "vision"


class SceneCritiqued(Event, tag="scene.critiqued"):
    """A vision model judged key frames of one rendered attempt (VISION_MODEL is set)."""

    type: ClassVar[str] = "scene.critiqued"
    context: JobContext
    scene_number: int
    attempt: int
    model: str
    findings: list[SceneFinding] = []

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}"


class RenderError(msgspec.Struct, kw_only=True):
    """Why a render failed, in a form the coder can act on."""

    kind: str  # crash | timeout | resource | no_output | policy
    message: str
    traceback: str = ""
    error_type: str | None = None
    line: int | None = None
    # Numbered scene lines around `line`, the failing one marked with ">".
    code_excerpt: str = ""
    # Whether changed code can help (false e.g. for a cancelled render).
    recoverable: bool = True


class SceneRenderFailed(Event, tag="scene.render_failed"):
    """One attempt at one scene failed to render; the coder may repair it."""

    type: ClassVar[str] = "scene.render_failed"
    context: JobContext
    scene_number: int
    scene_count: int
    attempt: int
    class_name: str
    code_ref: str
    plan_ref: str
    error: RenderError

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}"


class VideoCombined(Event, tag="video.combined"):
    """Every scene is rendered and joined into one video (artifact `video_ref`)."""

    type: ClassVar[str] = "video.combined"
    context: JobContext
    video_ref: str
    duration_seconds: float
    scene_offsets: list[float] = []
    # Subtitle artifacts (SRT and WebVTT) built from each scene's narration, when the job
    # asked for subtitles and its scenes have narration.
    subtitles_srt_ref: str | None = None
    subtitles_vtt_ref: str | None = None
    # Scenes left out because they failed for good (PARTIAL_ASSEMBLY=true).
    omitted_scenes: list[int] = []
    revision: str = ""  # names the set of clips joined: a scene rendered again makes a new one

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.revision}"


class StoredVideo(msgspec.Struct, kw_only=True):
    """Where a finished video lives and what it is."""

    storage_mode: str
    video_key: str
    thumbnail_keys: dict[str, str] = {}
    subtitle_keys: dict[str, str] = {}  # {"srt": key, "vtt": key} when subtitles were made
    duration_seconds: float
    width: int
    height: int
    fps: float
    frame_count: int
    file_size: int
    sha256: str
    format: str = "mp4"
    # Where each copy lives, e.g. {"local": "/data/videos/…", "s3": "s3://bucket/videos/…"}.
    locations: dict[str, str] = {}
    # local_and_s3 with S3_FALLBACK_TO_LOCAL: S3 failed for good, only the local copy exists.
    local_fallback: bool = False
    fallback_reason: str | None = None


class VideoStored(Event, tag="video.stored"):
    """The video is stored; the job is completed."""

    type: ClassVar[str] = "video.stored"
    video: StoredVideo
    model: str = "builtin"
    revision: str = ""  # the combined video's revision this stores

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.revision}"


class JobError(msgspec.Struct, kw_only=True):
    """The contract's `error` object of a failed job."""

    code: str
    stage: str
    message: str
    recoverable: bool = False
    suggestion: str = ""
    attempts: int = 1
    details: dict[str, Any] | None = None


class JobFailed(Event, tag="job.failed"):
    """A stage gave up on the job."""

    type: ClassVar[str] = "job.failed"
    error: JobError


class JobCancelled(Event, tag="job.cancelled"):
    """The owner cancelled the job; every stage stops working on it."""

    type: ClassVar[str] = "job.cancelled"
    reason: str = "cancelled by user"


AnyEvent = (
    JobRequested
    | ProgressReported
    | ScenePlanned
    | SceneCoded
    | SceneRendered
    | SceneRenderFailed
    | SceneCritiqued
    | VideoCombined
    | VideoStored
    | JobFailed
    | JobCancelled
    | UsageRecorded
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        JobRequested,
        ProgressReported,
        ScenePlanned,
        SceneCoded,
        SceneRendered,
        SceneRenderFailed,
        VideoCombined,
        VideoStored,
        JobFailed,
        JobCancelled,
        UsageRecorded,
    )
}

_encoder = msgspec.json.Encoder()
_any_decoder = msgspec.json.Decoder(AnyEvent)


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes) -> AnyEvent:
    """Decode any event by its tag; raises `msgspec.DecodeError`/`ValidationError` if malformed."""
    return _any_decoder.decode(data)
