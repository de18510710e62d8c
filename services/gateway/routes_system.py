"""`/api/v1/system/queue`: pending and in-flight work per stage, and what a new job waits."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.gateway.state import App, User
from services.gateway.workload import read_backlog
from shared import subjects
from shared.broker import CONSUMERS
from shared.events import utc_now
from shared.settings import QUALITIES

router = APIRouter(prefix="/api/v1/system", tags=["system"])


class StageQueue(BaseModel):
    pending: int = Field(description="Events waiting for this stage")
    in_flight: int = Field(description="Events being handled now (delivered, not yet acked)")
    idle_workers: int = Field(description="Pull requests waiting: free slots across replicas")


class RenderBacklogBody(BaseModel):
    scenes_waiting: int = Field(description="Scenes coded and waiting for a renderer")
    scenes_rendering: int = Field(description="Scenes being rendered now")
    render_slots: int = Field(
        description="Render slots listening across renderer replicas (0: no renderer is running)"
    )
    render_seconds_per_scene: float = Field(description="Recent median render wall time")
    backlog_seconds: float = Field(description="Render time of the backlog at this capacity")


class QueueResponse(BaseModel):
    stages: dict[str, StageQueue]
    render_backlog: RenderBacklogBody
    jobs: dict[str, int] = Field(description="Unfinished jobs by status")
    max_queued_jobs: int
    estimated_wait_seconds: dict[str, float] = Field(description="Before a new job starts")
    estimated_job_seconds: dict[str, float] = Field(description="Recent median, by quality")
    estimated_completion: dict[str, datetime] = Field(description="Of a job submitted now")


@router.get("/queue", response_model=QueueResponse)
async def queue(app: App, user: User) -> QueueResponse:
    workload, now = app.workload, utc_now()
    workload.backlog = await read_backlog(app.deps.js)
    stages = {}
    for durable in CONSUMERS:
        if durable == "gateway":
            continue
        info = await app.deps.js.consumer_info(subjects.STREAM, durable)
        stages[durable] = StageQueue(
            pending=info.num_pending or 0,
            in_flight=info.num_ack_pending or 0,
            idle_workers=info.num_waiting or 0,
        )
    return QueueResponse(
        stages=stages,
        render_backlog=RenderBacklogBody(
            scenes_waiting=workload.backlog.waiting,
            scenes_rendering=workload.backlog.rendering,
            render_slots=workload.backlog.slots,
            render_seconds_per_scene=round(workload.render_seconds(), 1),
            backlog_seconds=round(workload.backlog_seconds(), 1),
        ),
        jobs={"queued": 0, "processing": 0, **workload.by_status()},
        max_queued_jobs=app.deps.settings.max_queued_jobs,
        estimated_wait_seconds={q: round(workload.wait_seconds(q), 1) for q in QUALITIES},
        estimated_job_seconds={q: round(workload.job_seconds(q), 1) for q in QUALITIES},
        estimated_completion={q: workload.estimated_completion(q, now=now) for q in QUALITIES},
    )
