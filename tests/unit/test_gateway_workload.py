"""The gateway's view of its workload: active jobs, durations, estimates, retry hints."""

from __future__ import annotations

from datetime import timedelta

from services.gateway.workload import DEFAULT_JOB_SECONDS, Workload
from shared.events import JobConfig, utc_now
from shared.jobview import JobView


def _view(job: str, user: str, status: str, *, seconds: float | None = None) -> JobView:
    created = utc_now()
    return JobView(
        job_id=job, user_id=user, status=status, created_at=created,
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
