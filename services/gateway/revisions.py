"""Revisions of a finished job: who may revise what, and the view while one is made.

Pure functions: the route (routes_revisions.py) reads the job's recorded events and its
view and hands them here. The gateway decides only what it must at acceptance — the new
revision's number and where its attempts start — and announces both in the request's
`JobContext`; which scenes change is the planner's decision (`revision.planned`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

import msgspec

from services.gateway.errors import ApiError
from services.gateway.views import not_ready_details
from shared.events import (
    AnyEvent,
    JobContext,
    JobRequested,
    RevisionRequested,
    SceneCoded,
    SceneRendered,
    SceneRenderFailed,
)
from shared.jobview import JobView, RevisionRecord
from shared.replay import reopened

REVISION_STAGE = "planning"  # where a revision puts the job back: its scenes are re-planned


def check_revisable(view: JobView, scene: int | None) -> int:
    """The job's scene count; 409 unless the job is completed, 422 for a scene it lacks."""
    if view.status != "completed" or view.video is None:
        raise ApiError(
            409,
            "CONFLICT",
            f"Only a completed job can be revised; this one is {view.status}",
            details=not_ready_details(view),
        )
    if view.kind != "generate":
        raise ApiError(
            409,
            "CONFLICT",
            "A render-only job has no plans to revise; submit the changed code instead",
            details={"kind": view.kind},
        )
    count = len(view.scenes)
    if scene is not None and not 1 <= scene <= count:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"scene: the job has scenes 1 to {count}",
            details={
                "field_errors": [
                    {"field": "scene", "type": "out_of_range", "message": f"1 to {count}"}
                ]
            },
        )
    return count


def revision_context(events: Sequence[AnyEvent], *, revision: int) -> JobContext:
    """The new revision's context: the job's own (as accepted), numbered, with its attempts
    starting past every attempt any earlier revision made."""
    requested = next((e for e in events if isinstance(e, JobRequested)), None)
    if requested is None:
        raise ApiError(
            409,
            "CONFLICT",
            "The job's recorded events have expired; it can no longer be revised",
        )
    attempts = [
        event.attempt
        for event in events
        if isinstance(event, SceneCoded | SceneRendered | SceneRenderFailed)
    ]
    return msgspec.structs.replace(
        requested.context, revision=revision, first_attempt=max(attempts, default=0) + 1
    )


def revision_request(
    view: JobView,
    context: JobContext,
    *,
    scene_count: int,
    scene: int | None,
    instruction: str,
    now: datetime,
) -> RevisionRequested:
    return RevisionRequested(
        job_id=view.job_id,
        user_id=view.user_id,
        occurred_at=now,
        config=view.config,
        context=context,
        scene_count=scene_count,
        instruction=instruction,
        scene=scene,
    )


def opened(view: JobView, request: RevisionRequested) -> JobView | None:
    """The view with the revision started (processing again), or None when another request
    got there first (the job is no longer completed at the revision it was)."""
    if view.status != "completed" or view.revision != request.context.revision - 1:
        return None
    updated = reopened(view, REVISION_STAGE, at=request.occurred_at)
    updated.revision = request.context.revision
    if not updated.revisions:  # the original video becomes revision 1 of the history
        updated.revisions = [
            RevisionRecord(
                revision=1,
                scenes_changed=sorted(view.scenes),
                status="completed",
                created_at=view.created_at,
                completed_at=view.completed_at,
                video=view.video,
            )
        ]
    updated.revisions.append(
        RevisionRecord(
            revision=request.context.revision,
            instruction=request.instruction,
            scene=request.scene,
            created_at=request.occurred_at,
        )
    )
    return updated


def withdrawn(view: JobView, revision: int) -> JobView | None:
    """The view as it was before `revision` opened, when its request could not be queued."""
    if view.revision != revision or view.revisions[-1].revision != revision:
        return None
    updated = copy.deepcopy(view)
    updated.revisions.pop()
    previous = updated.revisions[-1]
    updated.revision = previous.revision
    updated.status = "completed"
    updated.current_stage = "completed"
    updated.percentage = 100.0
    updated.completed_at = previous.completed_at
    return updated
