"""Fold pipeline events into the job view that the REST contract reads.

`apply` is pure, idempotent and order-tolerant: two gateway replicas share one durable
consumer, so events can arrive late, twice or out of order. Every rule therefore only
moves a job forward — stages by their order, percentages by `max`, scenes by
(attempt, phase) — and terminal states never change again.
"""

from __future__ import annotations

import copy
from datetime import datetime

from shared.events import (
    AnyEvent,
    JobCancelled,
    JobError,
    JobFailed,
    ProgressReported,
    RevisionPlanned,
    SceneAbandoned,
    SceneCoded,
    SceneNarrated,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    UsageRecorded,
    VideoStored,
    superseded,
)
from shared.jobview import JobView, SceneRecord, StageRecord, UsageEntry
from shared.stages import BY_NAME, ORDER, percentage_within

# How far one attempt at a scene has got; a rendered scene is done whatever the attempt.
_PHASE_RANK = {"planned": 0, "coding": 1, "coded": 2, "rendering": 3, "failed": 4}
_RENDERED = (float("inf"), float("inf"))
_SETTLED = frozenset({"rendered", "abandoned"})  # no later event moves these back
_SCENE_PHASE_OF_STAGE = {"code_generation": "coding", "rendering": "rendering"}


def apply(view: JobView, event: AnyEvent) -> JobView | None:
    """The view after `event`, or None when the event changes nothing."""
    if superseded(event, view.revision):
        return None  # work of a revision that was superseded
    updated = copy.deepcopy(view)
    if not view.is_terminal:
        _fold(updated, event)
    elif isinstance(event, ProgressReported) and _fills_history(view, event):
        _record_stage(updated, event.stage, at=event.occurred_at, description=event.description)
    else:
        return None
    return None if updated == view else updated


def _fills_history(view: JobView, event: ProgressReported) -> bool:
    """A completed job still takes a late stage entry that it has no record of.

    Two gateway replicas can project a job's events in different orders; the stage list
    must not lose a stage because its event lost the race.
    """
    return (
        view.status == "completed"
        and event.stage in ORDER
        and all(record.stage != event.stage for record in view.stages)
    )


def cancel(view: JobView, *, at: datetime) -> JobView | None:
    """The view of a job cancelled at `at`, or None when it already ended.

    Cancelling a revision cancels only that revision: the job keeps its stored video.
    """
    if view.is_terminal:
        return None
    updated = copy.deepcopy(view)
    if not _revision_ended(updated, "cancelled", at=at):
        _finish(updated, "cancelled", at=at)
    return updated


def stages_completed(view: JobView) -> list[str]:
    """Stages that finished, in order; never the current one (a failed stage did not finish)."""
    return [
        record.stage
        for record in view.stages
        if record.finished_at is not None and record.stage != view.current_stage
    ]


def processing_seconds(view: JobView, *, now: datetime) -> float | None:
    if view.started_at is None:
        return None
    return round(((view.completed_at or now) - view.started_at).total_seconds(), 3)


def _fold(view: JobView, event: AnyEvent) -> None:
    match event:
        case ProgressReported():
            _progress(view, event)
        case ScenePlanned():
            _scene(view, event.scene_number).title = event.title
        case RevisionPlanned():
            _revision_planned(view, event)
        case SceneNarrated():
            scene = _scene(view, event.scene_number)
            scene.voice = event.narration.voice
            scene.speech_seconds = event.narration.speech_seconds
            if event.narration.voice not in view.voices:
                view.voices = sorted([*view.voices, event.narration.voice])
        case SceneCoded():
            _advance_scene(view, event.scene_number, attempt=event.attempt, phase="coded")
            scene = _scene(view, event.scene_number)
            if event.attempt >= scene.attempts:
                scene.model, scene.fallback_reason = event.model, event.fallback_reason
            coded = _count(view, "coded", "rendering", "failed", "rendered")
            _refine(view, "code_generation", coded / max(event.scene_count, 1))
        case SceneRenderFailed():
            scene = _scene(view, event.scene_number)
            if event.attempt >= scene.attempts:
                scene.last_error = event.error.message
            _advance_scene(view, event.scene_number, attempt=event.attempt, phase="failed")
        case SceneAbandoned():
            scene = _scene(view, event.scene_number)
            scene.status, scene.last_error = "abandoned", event.reason
        case SceneRendered():
            scene = _scene(view, event.scene_number)
            scene.status = "rendered"
            scene.attempts = max(scene.attempts, event.attempt)
            scene.duration_seconds = event.duration_seconds
            scene.render_seconds = event.render_seconds
            scene.warnings = list(event.warnings)
            _refine(view, "rendering", _count(view, "rendered") / max(event.scene_count, 1))
        case VideoStored():
            _enter_stage(view, "completed", at=event.occurred_at)
            _finish(view, "completed", at=event.occurred_at)
            view.video = event.video
            view.model = event.model
            if record := view.revision_record(event.job_revision):
                record.status, record.video = "completed", event.video
                record.completed_at = event.occurred_at
        case JobFailed():
            if not _revision_ended(view, "failed", at=event.occurred_at, error=event.error):
                view.error = event.error
                _finish(view, "failed", at=event.occurred_at)
        case JobCancelled():
            if not _revision_ended(view, "cancelled", at=event.occurred_at):
                _finish(view, "cancelled", at=event.occurred_at)
        case UsageRecorded():
            view.usage[event.dedup_key()] = UsageEntry(stage=event.stage, usage=event.usage)
        case _:
            pass  # job.requested and video.combined carry nothing the view shows


def _revision_planned(view: JobView, event: RevisionPlanned) -> None:
    """The planner's decision: these scenes are made again (the others stay rendered)."""
    if record := view.revision_record(event.context.revision):
        record.scenes_changed, record.reason = list(event.scenes), event.reason
    for number in event.scenes:
        scene = _scene(view, number)
        scene.status, scene.last_error, scene.warnings = "planned", None, []


def _revision_ended(
    view: JobView, status: str, *, at: datetime, error: JobError | None = None
) -> bool:
    """End a revision that failed or was cancelled; False when no revision is being made.

    The job goes back to completed with the video it had: the revision's history entry
    says what happened, and a later revision starts from the stored video.
    """
    record = view.revision_record(view.revision)
    if record is None or record.status != "processing" or view.revision == 1:
        return False
    record.status, record.error, record.completed_at = status, error, at
    done = [r for r in view.revisions if r.status == "completed"]
    _close_open_stage(view, at=at)
    view.status, view.current_stage, view.percentage = "completed", "completed", 100.0
    view.completed_at = at
    view.video = done[-1].video if done else view.video
    return True


def _progress(view: JobView, event: ProgressReported) -> None:
    _start(view, at=event.occurred_at)
    if event.scene is not None and event.stage in _SCENE_PHASE_OF_STAGE:
        _scene_progress(view, event.scene, phase=_SCENE_PHASE_OF_STAGE[event.stage])
    if event.stage not in ORDER:
        return
    if ORDER[event.stage] < ORDER[view.current_stage]:
        _record_stage(view, event.stage, at=event.occurred_at, description=event.description)
        return
    if ORDER[event.stage] > ORDER[view.current_stage]:
        _enter_stage(view, event.stage, at=event.occurred_at, description=event.description)
    view.percentage = max(view.percentage, event.percentage)


def _start(view: JobView, *, at: datetime) -> None:
    if view.status == "queued":
        view.status = "processing"
    view.started_at = at if view.started_at is None else min(view.started_at, at)


def _enter_stage(
    view: JobView, stage: str, *, at: datetime, description: str | None = None
) -> None:
    _close_open_stage(view, at=at)
    view.current_stage = stage
    view.percentage = max(view.percentage, BY_NAME[stage].percentage)
    view.stages.append(
        StageRecord(
            stage=stage,
            percentage=BY_NAME[stage].percentage,
            description=description or BY_NAME[stage].description,
            started_at=at,
            finished_at=at if stage == "completed" else None,
        )
    )


def _record_stage(view: JobView, stage: str, *, at: datetime, description: str) -> None:
    """Put a stage entered earlier than the current one into the history, in its place.

    It finished when the next recorded stage started; the stage before it finished no
    later than it started. The current stage and percentage do not move.
    """
    if any(record.stage == stage for record in view.stages):
        return
    later = [r for r in view.stages if ORDER.get(r.stage, 0) > ORDER[stage]]
    earlier = [r for r in view.stages if ORDER.get(r.stage, 0) < ORDER[stage]]
    finished = min((r.started_at for r in later), default=None)
    if earlier and earlier[-1].finished_at is not None and earlier[-1].finished_at > at:
        earlier[-1].finished_at = max(at, earlier[-1].started_at)
    record = StageRecord(
        stage=stage,
        percentage=BY_NAME[stage].percentage,
        description=description,
        started_at=min(at, finished) if finished else at,
        finished_at=finished,
    )
    view.stages = [*earlier, record, *later]


def _close_open_stage(view: JobView, *, at: datetime) -> None:
    for record in view.stages:
        if record.finished_at is None:
            record.finished_at = max(at, record.started_at)


def _finish(view: JobView, status: str, *, at: datetime) -> None:
    _close_open_stage(view, at=at)
    view.status = status
    view.completed_at = at
    if status == "completed":
        view.percentage = 100.0


def _refine(view: JobView, stage: str, fraction: float) -> None:
    """Move the percentage part-way through `stage` while the job is in it."""
    if view.current_stage == stage:
        view.percentage = max(view.percentage, percentage_within(stage, fraction))


def _scene(view: JobView, number: int) -> SceneRecord:
    if number not in view.scenes:
        view.scenes[number] = SceneRecord(scene_number=number)
    return view.scenes[number]


def _scene_progress(view: JobView, number: int, *, phase: str) -> None:
    """Progress names no attempt: coding belongs to the latest one (a repair stays "failed"
    until its code arrives), and rendering always follows some attempt's code."""
    attempts = _scene(view, number).attempts
    attempt = max(attempts, 1) if phase == "rendering" else attempts
    _advance_scene(view, number, attempt=attempt, phase=phase)


def _advance_scene(view: JobView, number: int, *, attempt: int, phase: str) -> None:
    scene = _scene(view, number)
    if (attempt, _PHASE_RANK[phase]) > _scene_position(scene):
        scene.status = phase
    scene.attempts = max(scene.attempts, attempt)


def _scene_position(scene: SceneRecord) -> tuple[float, float]:
    if scene.status in _SETTLED:
        return _RENDERED
    return (scene.attempts, _PHASE_RANK.get(scene.status, 0))


def _count(view: JobView, *statuses: str) -> int:
    return sum(1 for scene in view.scenes.values() if scene.status in statuses)
