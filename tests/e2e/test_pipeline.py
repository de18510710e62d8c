"""The whole stack as a user starts it: real nats-server, one process per service, real renders."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from services.planner.budget import DEFAULT_BUDGET
from shared import subjects
from shared.jobview import user_key
from tests.e2e.helpers import submit, terminal, wait_for
from videogen.stack import Stack, isolated_stack
from videogen.topics import find_topic

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}
STAGE_ORDER = [
    ("initializing", 5),
    ("planning", 15),
    ("scenario_creation", 30),
    ("code_generation", 50),
    ("rendering", 80),
    ("combining", 90),
    ("storage", 95),
    ("completed", 100),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("stack"),
        API_KEYS="key-alice:alice,key-bob:bob",
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="4",
        MAX_CONCURRENT_RENDERS="2",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def _stored_files(stack: Stack, user: str, job_id: str) -> list[Path]:
    folder = stack.data_dir / "videos" / user_key(user) / job_id
    return sorted(folder.glob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def completed_job(api: httpx.Client) -> tuple[str, dict[str, Any], list[tuple[str, float]]]:
    job_id = submit(api, "The Pythagorean Theorem", ALICE)
    status, seen = wait_for(api, job_id, ALICE, terminal)
    return job_id, status, seen


def test_job_goes_through_every_stage_in_order(completed_job, api: httpx.Client, tmp_path: Path):
    job_id, status, seen = completed_job
    assert status["status"] == "completed", status.get("error")
    assert status["progress"]["percentage"] == 100
    percentages = [pct for _, pct in seen]
    assert percentages == sorted(percentages), f"progress went backwards: {seen}"
    recorded = [(stage["stage"], stage["percentage"]) for stage in status["stages"]]
    assert recorded == STAGE_ORDER
    starts = [stage["started_at"] for stage in status["stages"]]
    assert starts == sorted(starts)
    assert all(stage["description"] for stage in status["stages"])
    assert status["progress"]["stages_completed"] == [name for name, _ in STAGE_ORDER[:-1]]
    assert all(scene["status"] == "rendered" for scene in status["scenes"])
    assert 3 <= len(status["scenes"]) <= DEFAULT_BUDGET.max_scenes  # no target_minutes: default

    video = tmp_path / "video.mp4"
    video.write_bytes(api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).content)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        duration = float((container.duration or 0) / av.time_base)
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or 0)
    assert duration > 1
    assert abs(frames - duration * rate) <= rate  # within a second's worth of frames


def test_stream_serves_ranges(completed_job, api: httpx.Client):
    job_id = completed_job[0]
    url = f"/api/v1/videos/jobs/{job_id}/stream"
    whole = api.get(url, headers=ALICE)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    part = api.get(url, headers={**ALICE, "Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == whole.content[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
    bad = api.get(url, headers={**ALICE, "Range": f"bytes={len(whole.content) + 10}-"})
    assert bad.status_code == 416
    assert bad.headers["content-range"] == f"bytes */{len(whole.content)}"


def test_users_cannot_see_each_others_jobs(completed_job, api: httpx.Client):
    job_id = completed_job[0]
    for method, path in (
        ("GET", f"/api/v1/videos/jobs/{job_id}/status"),
        ("GET", f"/api/v1/videos/jobs/{job_id}/stream"),
        ("GET", f"/api/v1/jobs/{job_id}"),
        ("POST", f"/api/v1/jobs/{job_id}/cancel"),
        ("DELETE", f"/api/v1/jobs/{job_id}"),
    ):
        response = api.request(method, path, headers=BOB)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert job_id not in [j["job_id"] for j in api.get("/api/v1/jobs", headers=BOB).json()["jobs"]]
    assert job_id in [j["job_id"] for j in api.get("/api/v1/jobs", headers=ALICE).json()["jobs"]]
    assert api.get(f"/api/v1/jobs/{job_id}", headers=ALICE).json()["status"] == "completed"


def test_cancel_stops_the_work(stack: Stack, api: httpx.Client):
    job_id = submit(api, "Ohm's Law", BOB)
    wait_for(
        api,
        job_id,
        BOB,
        lambda s: terminal(s) or s["progress"]["current_stage"] in ("rendering", "combining"),
    )
    response = api.post(f"/api/v1/jobs/{job_id}/cancel", headers=BOB)
    assert response.status_code == 200, response.text
    assert response.json()["new_status"] == "cancelled"
    assert api.post(f"/api/v1/jobs/{job_id}/cancel", headers=BOB).status_code == 409
    time.sleep(8)  # long enough for any render that kept going to finish and report
    status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=BOB).json()
    assert status["status"] == "cancelled"
    assert _stored_files(stack, "bob", job_id) == []
    renderer_log = (stack.data_dir / "logs" / "renderer.log").read_text()
    assert "job cancelled: killed" in renderer_log


def test_malformed_event_is_terminated_not_retried(stack: Stack):
    async def publish_garbage() -> int:
        connection = await stack.connect()
        js = connection.jetstream()
        subject = subjects.event_subject("00000000-0000-4000-8000-000000000000", "scene.coded")
        await js.publish(subject, b"{not json")
        await asyncio.sleep(2)
        info = await js.consumer_info(subjects.STREAM, "renderer")
        await connection.close()
        return info.num_ack_pending + info.num_pending

    assert asyncio.run(publish_garbage()) == 0
    assert "malformed event terminated" in (stack.data_dir / "logs" / "renderer.log").read_text()


def test_job_survives_a_killed_renderer(stack: Stack, api: httpx.Client, tmp_path: Path):
    job_id = submit(api, "Cramer's Rule", ALICE, target_minutes=0.5)  # a short job: 3 scenes
    wait_for(
        api,
        job_id,
        ALICE,
        lambda s: any(c["status"] == "rendering" for c in s["scenes"]) or terminal(s),
    )
    stack.kill_service("renderer")
    time.sleep(1)
    stack.start_service("renderer")
    status, _ = wait_for(api, job_id, ALICE, terminal, timeout=300)
    assert status["status"] == "completed", status.get("error")
    files = _stored_files(stack, "alice", job_id)
    assert [f.name for f in files if f.suffix == ".mp4"] == ["video.mp4"]
    video = tmp_path / "v.mp4"
    video.write_bytes(api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).content)
    with av.open(str(video)) as container:
        assert (container.duration or 0) / av.time_base > 1


def _videogen(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it beside the stack: it finds the bus through DATA_DIR."""
    env = {name: value for name, value in stack.env.items() if name != "NATS_URL"}
    return subprocess.run(
        [sys.executable, "-m", "videogen", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_events_and_replay_render_a_scene_again(completed_job, stack: Stack, api: httpx.Client):
    job_id = completed_job[0]
    timeline = _videogen(stack, "events", job_id)
    assert timeline.returncode == 0, timeline.stderr
    order = [
        name
        for name in (
            "job.requested",
            "scene.planned",
            "scene.coded",
            "scene.rendered",
            "video.combined",
            "video.stored",
        )
        if name in timeline.stdout
    ]
    assert order == sorted(order, key=timeline.stdout.index) and len(order) == 6

    refused = _videogen(stack, "replay", job_id, "--from", "scene.coded", "--scene", "1")
    assert refused.returncode != 0 and "--reopen" in refused.stderr + refused.stdout
    replayed = _videogen(
        stack, "replay", job_id, "--from", "scene.coded", "--scene", "1", "--reopen"
    )
    assert replayed.returncode == 0, replayed.stderr

    status, _ = wait_for(
        api, job_id, ALICE, lambda s: s["status"] == "completed" and s["scenes"][0]["attempts"] == 2
    )
    assert [s["attempts"] for s in status["scenes"][1:]] == [1] * (len(status["scenes"]) - 1)
    renders = [
        json.loads(line)
        for line in (stack.data_dir / "logs" / "renderer.log").read_text().splitlines()
        if job_id in line and "render finished" in line
    ]
    again = [r for r in renders if r.get("scene") == 1 and r.get("attempt") == 2]
    assert again and again[0]["cached"] is False  # really rendered, not served from cache


def test_gateway_metrics_count_jobs_without_job_ids(completed_job, api: httpx.Client):
    from prometheus_client.parser import text_string_to_metric_families

    text = api.get("/metrics").text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    completed = [
        s.value
        for s in samples
        if s.name == "videogen_jobs_total" and s.labels.get("status") == "completed"
    ]
    assert completed and completed[0] >= 1
    uuid_like = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
    assert not [s for s in samples if any(uuid_like.search(v) for v in s.labels.values())]


def test_an_urgent_job_goes_through_every_stage(stack: Stack, api: httpx.Client):
    """Every stage takes priority-lane work, not only those with a `-priority` durable."""
    topic = find_topic("The Pythagorean Theorem")
    body = {
        "configuration": {"topic": topic.topic, "context": topic.context, "quality": "low"},
        "priority": "urgent",
    }
    response = api.post("/api/v1/videos/generate", json=body, headers=BOB)
    assert response.status_code == 201, response.text
    status, _ = wait_for(api, response.json()["job_id"], BOB, terminal)
    assert status["status"] == "completed", status
