"""Every subject, stream, consumer and bucket name. No subject string lives elsewhere.

Subjects carry the job id (`videogen.<job_id>.<event type>`), so one filter reads a
whole job back in order, while metrics and logs label by event type only.
"""

from __future__ import annotations

PREFIX = "videogen"
STREAM = "VIDEOGEN"
JOBS_BUCKET = "videogen-jobs"
IDEMPOTENCY_BUCKET = "videogen-idempotency"
LEDGER_BUCKET = "videogen-ledger"
ARTIFACTS_BUCKET = "videogen-artifacts"
WEBHOOKS_BUCKET = "videogen-webhooks"
CONDITIONS_BUCKET = "videogen-conditions"  # named conditions replicas announce (disk pressure)
KV_BUCKETS = (JOBS_BUCKET, IDEMPOTENCY_BUCKET, LEDGER_BUCKET, WEBHOOKS_BUCKET, CONDITIONS_BUCKET)
OBJECT_STORES = (ARTIFACTS_BUCKET,)
BUCKETS = (*KV_BUCKETS, *OBJECT_STORES)

ALL_EVENTS = f"{PREFIX}.>"

# Event types: the last part of every subject, and each event's tag in shared/events.py.
JOB_REQUESTED = "job.requested"
PROGRESS = "progress"
SCENE_PLANNED = "scene.planned"
SCENE_NARRATED = "scene.narrated"
SCENE_CODED = "scene.coded"
SCENE_SLICE_REQUESTED = "scene.slice_requested"  # one range of a long scene, for any renderer
SCENE_RENDERED = "scene.rendered"
SCENE_RENDER_FAILED = "scene.render_failed"
SCENE_ABANDONED = "scene.abandoned"
SCENE_CRITIQUED = "scene.critiqued"
USAGE_RECORDED = "usage.recorded"
VIDEO_COMBINED = "video.combined"
VIDEO_STORED = "video.stored"
JOB_FAILED = "job.failed"
JOB_CANCELLED = "job.cancelled"
JOB_REVISION_REQUESTED = "job.revision_requested"
REVISION_PLANNED = "revision.planned"
EVENT_TYPES = (
    JOB_REQUESTED,
    PROGRESS,
    SCENE_PLANNED,
    SCENE_NARRATED,
    SCENE_CODED,
    SCENE_SLICE_REQUESTED,
    SCENE_RENDERED,
    SCENE_RENDER_FAILED,
    SCENE_ABANDONED,
    SCENE_CRITIQUED,
    USAGE_RECORDED,
    VIDEO_COMBINED,
    VIDEO_STORED,
    JOB_FAILED,
    JOB_CANCELLED,
    JOB_REVISION_REQUESTED,
    REVISION_PLANNED,
)


def event_subject(job_id: str, event_type: str) -> str:
    """The subject one event of one job is published on."""
    return f"{PREFIX}.{job_id}.{event_type}"


def events_of_type(event_type: str) -> str:
    """Filter for one event type across all jobs (what a stage consumes)."""
    return f"{PREFIX}.*.{event_type}"


def events_of_job(job_id: str) -> str:
    """Filter for every event of one job (replay, logs)."""
    return f"{PREFIX}.{job_id}.>"


def event_type_of(subject: str) -> str:
    """`videogen.<job>.scene.coded` → `scene.coded`."""
    return subject.split(".", 2)[2]


def inbox_of(user: str) -> str:
    """The inbox prefix of a NATS user: replies to it arrive where no other user may read."""
    return f"_INBOX.{user}" if user else "_INBOX"


def bucket_stream(bucket: str) -> str:
    """The JetStream stream behind a KV bucket or an object store (NATS's naming)."""
    return f"OBJ_{bucket}" if bucket in OBJECT_STORES else f"KV_{bucket}"


def bucket_subjects(bucket: str) -> str:
    """Every subject a KV bucket or object store writes to."""
    return f"$O.{bucket}.>" if bucket in OBJECT_STORES else f"$KV.{bucket}.>"
