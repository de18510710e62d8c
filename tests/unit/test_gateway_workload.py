"""The gateway's view of its workload: active jobs, durations, estimates, retry hints."""

from __future__ import annotations

from datetime import timedelta

from services.gateway.workload import DEFAULT_JOB_SECONDS, Workload
from shared.events import JobConfig, utc_now
from shared.jobview import JobView


def _view(job: str, user: str, status: str, *, seconds: float | None = None) -> JobView:
    created = utc_now()
    return JobView(
        job_id=job,
        user_id=user,
        status=status,
        created_at=created,
        config=JobConfig(topic="t", context="c", quality="low"),
        completed_at=created + timedelta(seconds=seconds) if seconds is not None else None,
    )


def test_active_jobs_are_counted_per_user_until_they_finish():
    workload = Workload()
    workload.observe(_view("a", "alice", "queued"))
    workload.observe(_view("b", "alice", "processing"))
    workload.observe(_view("c", "bob", "queued"))
    assert (workload.count(), workload.count("alice"), workload.count("bob")) == (3, 2, 1)
    workload.observe(_view("a", "alice", "completed", seconds=30))
    workload.forget("c")
    assert (workload.count(), workload.by_status()) == (1, {"processing": 1})


def test_estimates_use_recent_durations_and_the_queue_ahead():
    workload = Workload()
    assert workload.job_seconds("low") == DEFAULT_JOB_SECONDS["low"]
    for job, seconds in (("a", 10), ("b", 20), ("c", 30), ("c", 999)):  # c counted once
        workload.observe(_view(job, "u", "completed", seconds=seconds))
    assert workload.job_seconds("low") == 20
    workload.observe(_view("q1", "u", "queued"))
    workload.observe(_view("q2", "u", "queued"))
    workload.observe(_view("p1", "u", "processing"))
    assert workload.wait_seconds("low") == 40  # two queued jobs of 20 s, one at a time
    now = utc_now()
    assert workload.estimated_completion("low", now=now) == now + timedelta(seconds=60)
    assert workload.retry_after_seconds() >= 1


def test_the_render_backlog_sets_the_wait_and_the_retry_hint():
    from services.gateway.workload import DEFAULT_RENDER_SECONDS, RenderBacklog
    from shared.jobview import SceneRecord

    workload = Workload()
    assert workload.backlog_seconds() == 0
    done = _view("done", "u", "completed", seconds=60)
    done.scenes = {
        n: SceneRecord(scene_number=n, render_seconds=s) for n, s in ((1, 4.0), (2, 6.0), (3, 8.0))
    }
    workload.observe(done)
    assert workload.render_seconds() == 6.0 != DEFAULT_RENDER_SECONDS
    for job in ("a", "b", "c", "d"):
        workload.observe(_view(job, "u", "processing"))  # processing, while scenes wait
    # 77 scenes waiting, 2 rendering, 2 slots busy + 2 idle: (77 + 1) × 6 s / 4 slots
    workload.backlog = RenderBacklog(waiting=77, rendering=2, idle_slots=2)
    assert workload.backlog_seconds() == 117.0
    assert workload.wait_seconds("low") == 117.0  # no job is `queued`, the wait is not 0
    assert workload.retry_after_seconds() == round(117 / 4)  # the oldest job's share
    workload.backlog = RenderBacklog(waiting=3000, rendering=0, idle_slots=0)  # no renderer
    assert workload.retry_after_seconds() == 3600  # capped
