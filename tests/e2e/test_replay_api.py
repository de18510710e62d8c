"""Through the REST API only, on the whole stack: the owner reads a finished job's timeline
and replays a scene, the job completes again as after `videogen replay`; another user gets
404; the job's signed webhooks announce each completion."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import submit, wait_for
from tests.webhook_receiver import Receiver, running_receiver
from videogen.stack import Stack, isolated_stack
from videogen.topics import find_topic

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}
SECRET = "whsec_" + base64.b64encode(b"e2e-webhook-secret-0123456789").decode()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("stack"),
        API_KEYS="key-alice:alice,key-bob:bob",
        DEFAULT_QUALITY="low",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_SCHEDULE="0.5,1,2",
    ) as running:
        yield running


def _deliveries(api: httpx.Client, job_id: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 60
    while True:
        body = api.get(f"/api/v1/jobs/{job_id}/webhooks", headers=ALICE).json()
        delivered = [d for d in body["deliveries"] if d["state"] == "delivered"]
        if len(delivered) >= count:
            return body["deliveries"]
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


def test_owner_replays_a_finished_job_through_the_api(stack: Stack, receiver: Receiver):
    topic = find_topic("Cramer's Rule")  # a short job: 3 scenes
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        body = {
            "configuration": {
                "topic": topic.topic,
                "context": topic.context,
                "target_minutes": 0.5,
            },
            "webhook_url": receiver.url,
        }
        created = api.post("/api/v1/videos/generate", json=body, headers=ALICE)
        assert created.status_code == 201, created.text
        job_id = created.json()["job_id"]
        first, _ = wait_for(api, job_id, ALICE)
        assert first["status"] == "completed", first.get("error")

        events = api.get(f"/api/v1/jobs/{job_id}/events", headers=ALICE)
        assert events.status_code == 200
        types = [entry["event_type"] for entry in events.json()["events"]]
        assert types[0] == "job.requested" and types.count("video.stored") == 1
        for method, path in (("GET", "events"), ("POST", "replay"), ("GET", "webhooks")):
            other = api.request(
                method,
                f"/api/v1/jobs/{job_id}/{path}",
                headers=BOB,
                json={"from": "scene.coded", "scene": 1},
            )
            assert other.status_code == 404 and job_id not in other.text

        replay = {"from": "scene.coded", "scene": 1}
        refused = api.post(f"/api/v1/jobs/{job_id}/replay", json=replay, headers=ALICE)
        assert refused.status_code == 409  # a completed job must be reopened
        done = api.post(
            f"/api/v1/jobs/{job_id}/replay", json={**replay, "reopen": True}, headers=ALICE
        )
        assert done.status_code == 200, done.text
        assert done.json()["attempt"] == 2 and done.json()["reopened"] is True

        again, _ = wait_for(
            api,
            job_id,
            ALICE,
            until=lambda s: (
                s["status"] in ("completed", "failed")
                and s["completed_at"] != first["completed_at"]
            ),
        )
        assert again["status"] == "completed", again.get("error")
        scene_one = next(s for s in again["scenes"] if s["scene_number"] == 1)
        assert scene_one["attempts"] == 2
        timeline = api.get(f"/api/v1/jobs/{job_id}/events", headers=ALICE).json()["events"]
        stored = [e for e in timeline if e["event_type"] == "video.stored"]
        assert len(stored) == 2  # stored again: a new revision of the video
        coded = [e for e in timeline if e["event_type"] == "scene.coded" and e["scene"] == 1]
        assert [e["attempt"] for e in coded] == [1, 2]

        deliveries = _deliveries(api, job_id, 2)  # one per completion
        assert [d["event"] for d in deliveries] == ["job.completed", "job.completed"]
        payloads = receiver.verified(SECRET)
        assert [p["job_id"] for p in payloads] == [job_id, job_id]
        assert all(p["status"] == "completed" for p in payloads)
        assert api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).status_code == 200


def test_a_job_without_webhook_url_has_no_deliveries(stack: Stack):
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        job_id = submit(api, "Permutation", ALICE)
        api.post(f"/api/v1/jobs/{job_id}/cancel", headers=ALICE)
        body = api.get(f"/api/v1/jobs/{job_id}/webhooks", headers=ALICE).json()
        assert body == {"job_id": job_id, "webhook_url": None, "deliveries": []}
