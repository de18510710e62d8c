"""The job view: what the REST contract reads, kept in a JetStream KV bucket.

The gateway's projector folds events into it; stages read it to skip work on a job
that was cancelled, failed or deleted. Keys are `<user key>.<job id>`, so a user's jobs
are one key filter and another user's job is simply not found.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime

import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from shared.events import JobConfig, JobError, ModelUsage, StoredVideo, utc_now
from shared.kvstate import compare_and_set

TERMINAL = frozenset({"completed", "failed", "cancelled"})
_SAFE_USER = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


class StageRecord(msgspec.Struct, kw_only=True):
    stage: str
    percentage: float
    description: str
    started_at: datetime
    finished_at: datetime | None = None


class SceneRecord(msgspec.Struct, kw_only=True):
    scene_number: int
    status: str = "planned"  # planned | coded | rendering | rendered | failed | abandoned
    attempts: int = 0
    title: str = ""
    last_error: str | None = None
    duration_seconds: float | None = None
    model: str | None = None
    fallback_reason: str | None = None  # why the built-in model stands in for this scene
    render_seconds: float | None = None  # wall time of its last render (queue estimates)
    voice: str | None = None  # who narrated it (narrated jobs)
    speech_seconds: float | None = None
    warnings: list[str] = []  # e.g. the animation runs far longer than its speech


class UsageEntry(msgspec.Struct, kw_only=True):
    """One `usage.recorded` event's spend, kept by its dedup key so replays count once."""

    stage: str
    usage: list[ModelUsage]


class RevisionRecord(msgspec.Struct, kw_only=True):
    """One revision of a job's video: what was asked, what changed, where it is stored.

    Revision 1 is the original video (no instruction); each `POST …/revise` adds one.
    """

    revision: int
    instruction: str = ""
    scene: int | None = None  # the scene the owner named (None: the planner decided)
    scenes_changed: list[int] = []  # what the planner decided (revision.planned)
    reason: str = ""  # why those scenes, as the planner announced it
    status: str = "processing"  # processing | completed | failed | cancelled
    created_at: datetime = msgspec.field(default_factory=utc_now)
    completed_at: datetime | None = None
    error: JobError | None = None
    video: StoredVideo | None = None


class JobView(msgspec.Struct, kw_only=True):
    """Everything `/status`, `/video-url` and friends answer from."""

    job_id: str
    user_id: str
    config: JobConfig
    status: str = "queued"
    priority: str = "normal"
    kind: str = "generate"
    created_at: datetime = msgspec.field(default_factory=utc_now)
    updated_at: datetime = msgspec.field(default_factory=utc_now)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    estimated_completion: datetime | None = None
    percentage: float = 0.0
    current_stage: str = "queued"
    stages: list[StageRecord] = []
    scenes: dict[int, SceneRecord] = {}
    error: JobError | None = None
    video: StoredVideo | None = None
    model: str | None = None
    usage: dict[str, UsageEntry] = {}
    webhook_url: str | None = None  # where the gateway announces the job's end (signed)
    voices: list[str] = []  # every voice that narrated a scene (one, unless a fallback)
    revision: int = 1  # the revision being made or last made (see `revisions`)
    revisions: list[RevisionRecord] = []  # empty until the job is first revised

    def revision_record(self, number: int) -> RevisionRecord | None:
        return next((r for r in self.revisions if r.revision == number), None)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


def user_key(user_id: str) -> str:
    """A KV-safe token for a user id (ids with other characters are hashed)."""
    if _SAFE_USER.match(user_id):
        return user_id
    return "h" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


def job_key(user_id: str, job_id: str) -> str:
    return f"{user_key(user_id)}.{job_id}"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JobView)


class JobStore:
    """Reads and compare-and-set updates of job views."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def get(self, user_id: str, job_id: str) -> JobView | None:
        try:
            entry = await self.kv.get(job_key(user_id, job_id))
        except KeyNotFoundError:
            return None
        return _decoder.decode(entry.value) if entry.value else None

    async def create(self, view: JobView) -> bool:
        """Store a new view; False if the key exists already."""
        try:
            await self.kv.create(job_key(view.user_id, view.job_id), _encoder.encode(view))
        except KeyWrongLastSequenceError:
            return False
        return True

    async def update(
        self, user_id: str, job_id: str, change: Callable[[JobView], JobView | None]
    ) -> JobView | None:
        """Apply `change` with compare-and-set, retrying on a concurrent write.

        `change` returns the new view, or None to leave it as it is. Returns the stored
        view, or None when the job does not exist.
        """

        def stamped(current: JobView | None) -> JobView | None:
            updated = None if current is None else change(current)
            if updated is not None:
                updated.updated_at = utc_now()
            return updated

        return await compare_and_set(
            self.kv,
            job_key(user_id, job_id),
            stamped,
            decode=_decoder.decode,
            encode=_encoder.encode,
        )

    async def delete(self, user_id: str, job_id: str) -> None:
        await self.kv.purge(job_key(user_id, job_id))

    async def list_for_user(self, user_id: str) -> list[JobView]:
        """Every job of one user, newest first."""
        watcher = await self.kv.watch(f"{user_key(user_id)}.*", ignore_deletes=True)
        views: list[JobView] = []
        try:
            async for entry in watcher:
                if entry is None:
                    break
                if entry.value:
                    views.append(_decoder.decode(entry.value))
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py has no hints here
        return sorted(views, key=lambda view: view.created_at, reverse=True)
