"""The events stages exchange, one msgspec Struct each.

Every event carries the job it belongs to and the owner; pipeline events also carry a
`JobContext` so no stage has to look configuration up. Large things (plans, code,
clips, videos) are never inside an event: events carry artifact names.

Schema evolution: new fields get defaults, and unknown fields are ignored on decode, so
services can be upgraded one at a time. Bump `SCHEMA_VERSION` on incompatible change.
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from shared import subjects
from shared.plans import DEFAULT_TARGET_MINUTES

SCHEMA_VERSION = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


class ModelUsage(msgspec.Struct, kw_only=True):
    """What a model call cost; the built-in model reports zeros."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # estimated from a price table; 0 for local or unknown models


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
    # In the contract, unsupported: the gateway admits only null (typed loosely so events
    # recorded before that still decode).
    custom_config: dict[str, Any] | None = None
    template_id: str | None = None
    style_preferences: dict[str, Any] | None = None  # reaches the planner's and coder's prompts
    target_minutes: float = DEFAULT_TARGET_MINUTES  # the planner turns it into scenes and depth


class JobContext(msgspec.Struct, kw_only=True):
    """The slice of a job's configuration every downstream stage needs."""

    quality: str
    scene_model: str
    enable_subtitles: bool = True
    enable_thumbnails: bool = True
    use_rag: bool = False
    priority: str = "normal"  # low | normal | high | urgent: which lane its work takes
    # Decided once, when the job is accepted (ENABLE_NARRATION, TTS_MODEL): the narrator
    # voices every scene and the coder waits for `scene.narrated`; else scenes are silent.
    narrate: bool = False
    # Which revision of the job this work makes (1: the original video). A revision is a
    # new run of some scenes of a finished job (POST …/revise): its outputs are new
    # outputs, so it is part of every output's message id.
    revision: int = 1
    # The attempt number a revision's scenes start at (one past every earlier attempt, so
    # its code, renders and ledger entries never reuse an earlier attempt's names).
    first_attempt: int = 1

    @property
    def lane(self) -> str | None:
        """The consumer lane of this job's work: `PRIORITY_LANE` for high and urgent jobs."""
        return PRIORITY_LANE if self.priority in ("high", "urgent") else None


def revision_suffix(revision: int) -> str:
    """What a revision adds to an output's message id ("" for the original run)."""
    return "" if revision <= 1 else f":r{revision}"


# High and urgent jobs' events are taken by a stage's priority-lane consumers (a slot of
# their own), so they never wait behind a backlog of normal work.
PRIORITY_LANE = "priority"


class Beat(msgspec.Struct, kw_only=True, frozen=True):
    """One spoken sentence of a scene: where it starts in the scene and how long it lasts.

    `duration_seconds` includes the pause after it, so beats tile the scene's speech;
    `spoken_seconds` is the voiced part (what a subtitle shows).
    """

    text: str
    start_seconds: float
    duration_seconds: float
    spoken_seconds: float


class Narration(msgspec.Struct, kw_only=True):
    """A scene's speech: the voice, its beats and the audio (artifact `audio_ref`, WAV)."""

    voice: str
    beats: list[Beat] = []
    audio_ref: str | None = None  # None: a silent scene (no narration text)
    speech_seconds: float = 0.0


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


class JobRequested(Event, tag=subjects.JOB_REQUESTED):
    """The gateway accepted a job; the planner starts on it."""

    type: ClassVar[str] = subjects.JOB_REQUESTED
    config: JobConfig
    context: JobContext
    priority: str = "normal"


class ProgressReported(Event, tag=subjects.PROGRESS):
    """A stage moved a job forward. The gateway projects these into `/status`."""

    type: ClassVar[str] = subjects.PROGRESS
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


class SceneEvent(Event):
    """Fields of every event about one scene of a pipeline job; one output per scene."""

    context: JobContext
    scene_number: int
    scene_count: int

    def dedup_key(self) -> str:
        suffix = revision_suffix(self.context.revision)
        return f"{self.job_id}:{self.type}:{self.scene_number}{suffix}"


class ApiRewrite(msgspec.Struct, kw_only=True, frozen=True):
    """One manimgl / old-Manim idiom rewritten into the installed Manim's API before render.

    `line` is where it stood in the code when it was rewritten; `rule` names the table entry.
    """

    line: int
    before: str
    after: str
    rule: str


class SceneAttemptEvent(SceneEvent):
    """An event about one attempt at one scene; one output per attempt."""

    attempt: int

    def dedup_key(self) -> str:
        suffix = revision_suffix(self.context.revision)
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}{suffix}"


class PlannedScene(SceneEvent):
    """Fields of a scene on its way to the coder: its plan, or a client's own code."""

    title: str
    plan_ref: str
    # A render-only job's scene: the client's own code, which the coder passes on as is.
    client_code_ref: str | None = None
    class_name: str | None = None


class ScenePlanned(PlannedScene, tag=subjects.SCENE_PLANNED):
    """One scene's plan is written (artifact `plan_ref`); the narrator or coder goes on."""

    type: ClassVar[str] = subjects.SCENE_PLANNED


class SceneNarrated(PlannedScene, tag=subjects.SCENE_NARRATED, kw_only=True):
    """One scene's narration is spoken (beats and audio); the coder times its code to it."""

    type: ClassVar[str] = subjects.SCENE_NARRATED
    narration: Narration
    # Why the configured voice did not speak (TTS_FALLBACK=offline), when it did not.
    fallback_reason: str | None = None


class SceneCoded(SceneAttemptEvent, tag=subjects.SCENE_CODED):
    """Code for one attempt at one scene is written (artifact `code_ref`)."""

    type: ClassVar[str] = subjects.SCENE_CODED
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
    # The scene's speech (narrated jobs): the renderer adds the beat helpers to the code,
    # sizes the clip to the speech and muxes the audio.
    narration: Narration | None = None
    # Idioms of manimgl and older Manim rewritten in this attempt's code before it was checked.
    rewrites: list[ApiRewrite] = []
    # Set by the renderer for a scene a revision leaves unchanged: the earlier attempt whose
    # code this attempt renders again (never published as `scene.coded` itself).
    carried_from: int | None = None
    # This attempt repairs the layout findings of attempt N (LAYOUT_CHECK=repair): the
    # renderer keeps whichever of the two clips has fewer findings, and asks no more.
    layout_retry_of: int | None = None


class UsageRecorded(Event, tag=subjects.USAGE_RECORDED):
    """LLM calls and tokens a stage spent on a job (`scene` set for per-scene work).

    Emitted only when a model was actually called; the built-in model costs nothing.
    """

    type: ClassVar[str] = subjects.USAGE_RECORDED
    stage: str  # planning | scenario_creation | code_generation | repair
    usage: list[ModelUsage]
    scene: int | None = None
    attempt: int | None = None

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.stage}:{self.scene}:{self.attempt}"


class SceneFinding(msgspec.Struct, kw_only=True, frozen=True):
    """One visual problem seen in a rendered scene: by the vision model (`source="vision"`)
    or by the layout check on the boxes the render recorded (`source="layout"`)."""

    # off_frame | overlap | too_small | leftover | unreadable | mismatch | empty | other
    kind: str
    objects: list[str] = []
    message: str
    time_seconds: float | None = None  # when in the scene's clip it shows
    source: str = "vision"
    line: int | None = None  # the scene line that made the (first) object, where known
    animation: int | None = None  # index of the play/wait after which it shows (layout)


class SliceRequested(SceneAttemptEvent, tag=subjects.SCENE_SLICE_REQUESTED):
    """A renderer owns a long scene and asks any replica to render animations [start, end).

    The slice's clip and its report (durations, boundary states) are stored as artifacts
    named by ``slice_ref`` (``.mp4``, ``.json``; ``.failed.json`` when it failed to
    render); the owner joins the clips (services/renderer/slices.py).
    """

    type: ClassVar[str] = subjects.SCENE_SLICE_REQUESTED
    class_name: str
    code_ref: str  # the code exactly as the owner renders it (narration helpers included)
    slice_ref: str  # artifact name of this slice's outputs, without the extension
    slice_number: int
    slice_count: int
    start: int
    end: int | None  # exclusive; None: to the scene's end (the last slice)
    tex_ref: str | None = None  # the dry pass's compiled LaTeX (a zip of SVGs), if any
    layout: bool = False  # record the layout (the last slice: it replays the whole history)

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}:{self.slice_ref}"


class SceneRendered(SceneAttemptEvent, tag=subjects.SCENE_RENDERED):
    """One scene rendered to a clip (artifact `clip_ref`)."""

    type: ClassVar[str] = subjects.SCENE_RENDERED
    clip_ref: str
    duration_seconds: float
    render_seconds: float
    # Which Manim renderer drew the clip and why (RENDERER; services/renderer/choice.py).
    renderer: str = "cairo"
    renderer_reason: str = ""
    slices: int = 1  # renderers the scene was rendered by (1: whole)
    slicing: str = ""  # why it was sliced, or why not
    # Things worth knowing that did not fail the scene (e.g. video far longer than speech).
    warnings: list[str] = []
    # The clip came from the render cache (no Manim process ran), e.g. a scene a revision
    # left unchanged.
    cached: bool = False
    carried_from: int | None = None  # the attempt whose code a revision rendered again
    # What the layout check (LAYOUT_CHECK) found in this clip: recorded, not repaired.
    findings: list[SceneFinding] = []


class SceneCritiqued(Event, tag=subjects.SCENE_CRITIQUED):
    """A vision model judged key frames of one rendered attempt (VISION_MODEL is set)."""

    type: ClassVar[str] = subjects.SCENE_CRITIQUED
    context: JobContext
    scene_number: int
    attempt: int
    model: str
    findings: list[SceneFinding] = []

    def dedup_key(self) -> str:
        suffix = revision_suffix(self.context.revision)
        return f"{self.job_id}:{self.type}:{self.scene_number}:{self.attempt}{suffix}"


class RenderError(msgspec.Struct, kw_only=True):
    """Why a render failed, in a form the coder can act on."""

    kind: str  # crash | timeout | resource | no_output | policy | layout
    message: str
    traceback: str = ""
    error_type: str | None = None
    line: int | None = None
    # Numbered scene lines around `line`, the failing one marked with ">".
    code_excerpt: str = ""
    # Whether changed code can help (false e.g. for a cancelled render).
    recoverable: bool = True
    # kind "layout": the scene rendered, but the layout check found these (one repair round).
    findings: list[SceneFinding] = []


class SceneRenderFailed(SceneAttemptEvent, tag=subjects.SCENE_RENDER_FAILED):
    """One attempt at one scene failed to render; the coder may repair it."""

    type: ClassVar[str] = subjects.SCENE_RENDER_FAILED
    class_name: str
    code_ref: str
    plan_ref: str
    error: RenderError


class SceneAbandoned(SceneEvent, tag=subjects.SCENE_ABANDONED):
    """A scene will get no further attempt: it is left out of the video (PARTIAL_ASSEMBLY).

    Published by the stage that gave up — the coder when neither the job's model nor the
    built-in fallback made the scene render, the renderer when a client's own scene
    (render-only job) failed — so combining learns it from this event, not from a copy of
    their rules.
    """

    type: ClassVar[str] = subjects.SCENE_ABANDONED
    attempt: int  # the last attempt made
    reason: str
    error: RenderError | None = None  # the last render failure, when a render failed


def abandoned(
    source: SceneEvent, *, attempt: int, reason: str, error: RenderError | None = None
) -> SceneAbandoned:
    """The announcement that `source`'s scene gets no further attempt."""
    return SceneAbandoned(
        job_id=source.job_id,
        user_id=source.user_id,
        context=source.context,
        scene_number=source.scene_number,
        scene_count=source.scene_count,
        attempt=attempt,
        reason=reason,
        error=error,
    )


class VideoCombined(Event, tag=subjects.VIDEO_COMBINED):
    """Every scene is rendered and joined into one video (artifact `video_ref`)."""

    type: ClassVar[str] = subjects.VIDEO_COMBINED
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
        suffix = revision_suffix(self.context.revision)
        return f"{self.job_id}:{self.type}:{self.revision}{suffix}"


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


class VideoStored(Event, tag=subjects.VIDEO_STORED):
    """The video is stored; the job is completed."""

    type: ClassVar[str] = subjects.VIDEO_STORED
    video: StoredVideo
    model: str = "builtin"
    revision: str = ""  # the combined video's revision this stores
    # The job's context (its `revision` says which revision of the job this video is);
    # None in events recorded before revisions existed.
    context: JobContext | None = None

    @property
    def job_revision(self) -> int:
        return self.context.revision if self.context else 1

    def dedup_key(self) -> str:
        suffix = revision_suffix(self.job_revision)
        return f"{self.job_id}:{self.type}:{self.revision}{suffix}"


class JobError(msgspec.Struct, kw_only=True):
    """The contract's `error` object of a failed job."""

    code: str
    stage: str
    message: str
    recoverable: bool = False
    suggestion: str = ""
    attempts: int = 1
    details: dict[str, Any] | None = None


class JobFailed(Event, tag=subjects.JOB_FAILED):
    """A stage gave up on the job."""

    type: ClassVar[str] = subjects.JOB_FAILED
    error: JobError
    revision: int = 1  # the revision of the job that failed (its earlier ones stay stored)

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}{revision_suffix(self.revision)}"


class JobCancelled(Event, tag=subjects.JOB_CANCELLED):
    """The owner cancelled the job; every stage stops working on it."""

    type: ClassVar[str] = subjects.JOB_CANCELLED
    reason: str = "cancelled by user"


class RevisionRequested(Event, tag=subjects.JOB_REVISION_REQUESTED):
    """The owner asked for a new revision of a finished job; the planner decides its scenes.

    `context.revision` is the new revision's number, `context.first_attempt` where its
    attempts start; `scene` is the scene the owner named (None: the planner decides).
    """

    type: ClassVar[str] = subjects.JOB_REVISION_REQUESTED
    config: JobConfig
    context: JobContext
    scene_count: int
    instruction: str
    scene: int | None = None

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}{revision_suffix(self.context.revision)}"


class RevisionPlanned(Event, tag=subjects.REVISION_PLANNED):
    """The planner decided which scenes a revision changes (`scenes`, re-planned next);
    the renderer takes every other scene's clip from the render cache."""

    type: ClassVar[str] = subjects.REVISION_PLANNED
    context: JobContext
    scene_count: int
    scenes: list[int]
    reason: str

    @property
    def unchanged(self) -> list[int]:
        return [n for n in range(1, self.scene_count + 1) if n not in self.scenes]

    def dedup_key(self) -> str:
        return f"{self.job_id}:{self.type}{revision_suffix(self.context.revision)}"


AnyEvent = (
    JobRequested
    | ProgressReported
    | ScenePlanned
    | SceneNarrated
    | SceneCoded
    | SliceRequested
    | SceneRendered
    | SceneRenderFailed
    | SceneAbandoned
    | SceneCritiqued
    | VideoCombined
    | VideoStored
    | JobFailed
    | JobCancelled
    | UsageRecorded
    | RevisionRequested
    | RevisionPlanned
)


def revision_of(event: Event) -> int | None:
    """The revision of the job an event belongs to (1: the original run); None for events
    that name none (progress, usage, cancellation: they belong to whatever is running).

    Stages skip work of an older revision than the job's current one: it was superseded.
    """
    if isinstance(event, JobFailed):
        return event.revision
    context = getattr(event, "context", None)
    return context.revision if isinstance(context, JobContext) else None


def superseded(event: Event, current_revision: int) -> bool:
    """Whether `event` is work of an older revision than the job's current one."""
    revision = revision_of(event)
    return revision is not None and revision < current_revision


EVENT_TYPES: dict[str, type[Event]] = {cls.type: cls for cls in typing.get_args(AnyEvent)}

_encoder = msgspec.json.Encoder()
_any_decoder = msgspec.json.Decoder(AnyEvent)


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes) -> AnyEvent:
    """Decode any event by its tag; raises `msgspec.DecodeError`/`ValidationError` if malformed."""
    return _any_decoder.decode(data)
