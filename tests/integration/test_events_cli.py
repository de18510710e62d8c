"""`videogen events` and `videogen replay` against a real nats-server, run as a user would."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared import subjects
from shared.events import (
    Event,
    JobConfig,
    JobContext,
    JobRequested,
    ProgressReported,
    RenderError,
    SceneCoded,
    ScenePlanned,
    SceneRenderFailed,
    decode,
)
from shared.history import read_job
from shared.jobview import JobView
from shared.service import StageDeps, connected
from shared.settings import Settings
from tests.integration.onejob import USER, forget_jobs

CONTEXT = JobContext(quality="low", scene_model="builtin")


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[StageDeps]:
    async with connected("events-cli-test", settings) as stage:
        yield stage
        await forget_jobs(stage)


def _history(job_id: str) -> list[Event]:
    """A job whose only scene failed to render twice."""
    common: dict[str, Any] = {"job_id": job_id, "user_id": USER}
    scene: dict[str, Any] = {**common, "context": CONTEXT, "scene_number": 1, "scene_count": 1}
    code: dict[str, Any] = {**scene, "class_name": "S", "plan_ref": "plan", "model": "builtin"}
    failure = RenderError(kind="timeout", message="took too long")
    return [
        JobRequested(**common, config=JobConfig(topic="t", context="c"), context=CONTEXT),
        ProgressReported(**common, stage="planning", percentage=15, description="planning"),
        ScenePlanned(**scene, title="One", plan_ref="plan"),
        SceneCoded(**code, attempt=1, code_ref="code-1"),
        SceneRenderFailed(
            **scene, attempt=1, class_name="S", code_ref="code-1", plan_ref="plan", error=failure
        ),
        SceneCoded(**code, attempt=2, code_ref="code-2"),
        SceneRenderFailed(
            **scene, attempt=2, class_name="S", code_ref="code-2", plan_ref="plan", error=failure
        ),
    ]


async def _recorded_job(deps: StageDeps, *, status: str) -> tuple[str, list[Event]]:
    job_id = str(uuid.uuid4())
    await deps.jobs.create(
        JobView(
            job_id=job_id,
            user_id=USER,
            status=status,
            current_stage="rendering",
            config=JobConfig(topic="t", context="c"),
        )
    )
    history = _history(job_id)
    for event in history:
        await deps.bus.publish(event)
    return job_id, history


async def _videogen(deps: StageDeps, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "videogen",
        *args,
        "--nats-url",
        deps.settings.nats_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_events_prints_the_timeline_in_order(deps: StageDeps):
    job_id, history = await _recorded_job(deps, status="processing")
    code, out, err = await _videogen(deps, "events", job_id)
    assert code == 0, err
    header, *rows = out.strip().splitlines()
    assert header.split()[:3] == ["seq", "time", "(UTC)"]
    assert [row.split()[3] for row in rows] == [event.type for event in history]
    assert "timeout: took too long" in rows[-1]
    assert job_id not in out  # the job is the argument; rows say what happened


async def test_replay_of_scene_code_is_a_new_attempt_with_a_new_dedup_key(deps: StageDeps):
    job_id, _ = await _recorded_job(deps, status="failed")

    code, _, err = await _videogen(deps, "replay", job_id, "--from", "scene.coded", "--scene", "1")
    assert code == 2 and "--reopen" in err  # stages skip a failed job

    code, out, err = await _videogen(
        deps, "replay", job_id, "--from", "scene.coded", "--scene", "1", "--reopen"
    )
    assert code == 0, err
    message_id = out.strip()
    records = await read_job(deps.js, job_id)
    replayed = records[-1].event
    assert isinstance(replayed, SceneCoded)
    assert (replayed.attempt, replayed.code_ref) == (3, "code-2")
    assert message_id == replayed.dedup_key() == f"{job_id}:scene.coded:1:3"
    stored = await deps.js.get_msg(subjects.STREAM, records[-1].sequence)
    assert stored.headers is not None and stored.headers["Nats-Msg-Id"] == message_id
    assert decode(stored.data or b"") == replayed

    view = await deps.jobs.get(USER, job_id)
    assert view is not None and (view.status, view.current_stage) == ("processing", "rendering")

    code, _, _ = await _videogen(deps, "replay", job_id, "--from", "scene.coded", "--scene", "1")
    assert code == 0  # the next replay is attempt 4: never a duplicate of 3
    last = (await read_job(deps.js, job_id))[-1].event
    assert isinstance(last, SceneCoded) and last.attempt == 4


async def test_replay_refuses_what_the_job_never_recorded(deps: StageDeps):
    job_id, _ = await _recorded_job(deps, status="processing")
    code, _, err = await _videogen(deps, "replay", job_id, "--from", "video.combined")
    assert code == 2 and "no recorded video.combined" in err
