"""Revisions on the whole stack, through the REST API only: a finished 4-scene job, revise
scene 3. Exactly one scene is rendered again (the other three come from the render cache),
the new video differs from the old one only in scene 3's time range (frames decoded and
compared, scenes after it at their shifted offsets), both revisions download with
`?revision=`, and another user gets 404 on all of it. Bad requests get 4xx and change
nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import httpx
import numpy as np
import pytest

from tests.e2e.helpers import submit, wait_for
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}
TOPIC = "Similar Triangles Theorem"  # four scenes with the built-in model
INSTRUCTION = "Show the words REVISED SCENE in large letters"
# Mean absolute difference (0-255, on small grey frames) below which two frames are "the
# same": unchanged scenes are the same cached clip, stream-copied, so decode identically.
# The revised scene differs by a line of text (the built-in model shows the instruction),
# on a fraction of the frame: measured ~0.8 on its later frames.
SAME = 0.25
CHANGED = 0.5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("stack"),
        API_KEYS="key-alice:alice,key-bob:bob",
        DEFAULT_QUALITY="low",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def finished(api: httpx.Client) -> dict:
    job_id = submit(api, TOPIC, ALICE)
    status, _ = wait_for(api, job_id, ALICE, timeout=600)
    assert status["status"] == "completed", status.get("error")
    assert len(status["scenes"]) == 4
    return status


def _revise(
    api: httpx.Client, job_id: str, body: dict, headers: dict = ALICE, **kw
) -> httpx.Response:
    return api.post(f"/api/v1/videos/jobs/{job_id}/revise", json=body, headers=headers, **kw)


def _frames(video: bytes) -> tuple[np.ndarray, float]:
    """Every frame, small and grey (frames × 90 × 160), and the frame rate."""
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 0)
        frames = [
            frame.to_ndarray(width=160, height=90, format="gray").astype(np.float32)
            for frame in container.decode(stream)
        ]
    return np.stack(frames), rate


def _bounds(status: dict, rate: float) -> list[tuple[int, int]]:
    """Each scene's (first, end) frame in the joined video, from the scenes' clip lengths."""
    bounds, start = [], 0.0
    for scene in sorted(status["scenes"], key=lambda s: s["scene_number"]):
        end = start + scene["duration_seconds"]
        bounds.append((round(start * rate), round(end * rate)))
        start = end
    return bounds


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame mean absolute difference of two equally long frame runs."""
    return np.abs(a - b).mean(axis=(1, 2))


def test_revising_scene_three_renders_it_alone_and_changes_only_its_time_range(
    api: httpx.Client, finished: dict
):
    job_id = finished["job_id"]
    before = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE)
    assert before.status_code == 200

    accepted = _revise(api, job_id, {"scene": 3, "instruction": INSTRUCTION})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["revision"] == 2
    revised, _ = wait_for(
        api,
        job_id,
        ALICE,
        until=lambda s: s["revision"] == 2 and s["revisions"][-1]["status"] != "processing",
        timeout=600,
    )
    assert revised["status"] == "completed", revised.get("revisions")
    history = revised["revisions"]
    assert [(r["revision"], r["status"]) for r in history] == [(1, "completed"), (2, "completed")]
    assert history[1]["instruction"] == INSTRUCTION and history[1]["scenes_changed"] == [3]
    assert history[1]["created_at"] and history[1]["reason"]

    # Exactly one scene rendered again: revision 2's attempts of the others are cache hits.
    scenes = api.get(f"/api/v1/videos/jobs/{job_id}/scenes", headers=ALICE).json()["scenes"]
    second = {s["scene_number"]: [a for a in s["attempts"] if a["revision"] == 2] for s in scenes}
    assert all(len(attempts) == 1 for attempts in second.values()), second
    assert {n: a[0]["cached"] for n, a in second.items()} == {1: True, 2: True, 3: False, 4: True}
    assert all(a[0]["status"] == "rendered" for a in second.values())
    events = api.get(f"/api/v1/jobs/{job_id}/events", headers=ALICE).json()["events"]
    planned = [e for e in events if e["event_type"] == "revision.planned"]
    assert len(planned) == 1 and "[3]" in planned[0]["detail"]
    assert [e["scene"] for e in events if e["event_type"] == "scene.planned"][-1] == 3
    assert sum(e["event_type"] == "video.stored" for e in events) == 2

    # Both revisions download; the default is the latest.
    old = api.get(f"/api/v1/videos/jobs/{job_id}/download?revision=1", headers=ALICE)
    new = api.get(f"/api/v1/videos/jobs/{job_id}/download?revision=2", headers=ALICE)
    latest = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE)
    assert old.status_code == new.status_code == latest.status_code == 200
    assert old.content == before.content and latest.content == new.content
    assert old.content != new.content
    assert (
        api.get(f"/api/v1/videos/jobs/{job_id}/download?revision=3", headers=ALICE).status_code
        == 404
    )

    # Frames: scenes 1-2 equal, scene 3 differs, scene 4 equal at its (shifted) offset.
    old_frames, rate = _frames(old.content)
    new_frames, _ = _frames(new.content)
    old_bounds, new_bounds = _bounds(finished, rate), _bounds(revised, rate)
    assert old_bounds[:2] == new_bounds[:2]
    head = old_bounds[1][1] - 1  # the last frame of scene 2, clear of the join
    assert _difference(old_frames[:head], new_frames[:head]).max() < SAME
    (old_start, old_end), (new_start, new_end) = old_bounds[2], new_bounds[2]
    length = min(old_end - old_start, new_end - new_start) - 2
    changed = _difference(
        old_frames[old_start + 1 : old_start + 1 + length],
        new_frames[new_start + 1 : new_start + 1 + length],
    )
    assert changed.max() > CHANGED and (changed > SAME).mean() > 0.25, changed
    (old_four, old_tail), (new_four, new_tail) = old_bounds[3], new_bounds[3]
    tail = min(old_tail - old_four, new_tail - new_four, len(new_frames) - new_four) - 2
    assert tail > 10
    assert (
        _difference(
            old_frames[old_four + 1 : old_four + 1 + tail],
            new_frames[new_four + 1 : new_four + 1 + tail],
        ).max()
        < SAME
    )

    # Another user learns nothing: 404 on the revision and on either revision's download.
    assert _revise(api, job_id, {"scene": 1, "instruction": "x"}, BOB).status_code == 404
    for revision in (1, 2):
        other = api.get(f"/api/v1/videos/jobs/{job_id}/download?revision={revision}", headers=BOB)
        assert other.status_code == 404 and job_id not in other.text


def test_bad_revisions_are_refused_and_change_nothing(api: httpx.Client, finished: dict):
    job_id = finished["job_id"]
    wait_for(api, job_id, ALICE, until=lambda s: s["status"] == "completed", timeout=600)
    before = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
    for body in (
        {"scene": 9, "instruction": "make it blue"},
        {"scene": 0, "instruction": "make it blue"},
        {"scene": 1, "instruction": ""},
        {"scene": 1, "instruction": "   "},
        {"scene": 1, "instruction": "x" * 1001},
        {"scene": 1, "instruction": "bad\x00byte"},
        {"scene": "one", "instruction": "make it blue"},
        {"scene": 1},
        {"scene": 1, "instruction": "make it blue", "extra": True},
    ):
        refused = _revise(api, job_id, body)
        assert refused.status_code == 422, (body, refused.text)
        error = refused.json()
        assert error["status"] == "error" and error["error"]["code"] == "VALIDATION_ERROR"
    after = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
    assert after["revision"] == before["revision"] and after["revisions"] == before["revisions"]
    assert api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).status_code == 200

    running = submit(api, "Permutation", ALICE)  # not finished: nothing to revise yet
    busy = _revise(api, running, {"scene": 1, "instruction": "make it blue"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "CONFLICT"
    api.post(f"/api/v1/jobs/{running}/cancel", headers=ALICE)


def test_an_idempotency_key_makes_one_revision(api: httpx.Client, finished: dict):
    job_id = finished["job_id"]
    wait_for(api, job_id, ALICE, until=lambda s: s["status"] == "completed", timeout=600)
    body = {"scene": None, "instruction": "In the last scene, add a closing remark"}
    key = {**ALICE, "Idempotency-Key": "revise-once"}
    first = _revise(api, job_id, body, key)
    assert first.status_code == 202, first.text
    again = _revise(api, job_id, body, key)
    assert again.status_code == 200 and again.json()["revision"] == first.json()["revision"]
    other = _revise(api, job_id, {**body, "instruction": "something else"}, key)
    assert other.status_code == 422
    done, _ = wait_for(
        api,
        job_id,
        ALICE,
        until=lambda s: s["revisions"][-1]["status"] != "processing",
        timeout=600,
    )
    latest = done["revisions"][-1]
    assert latest["revision"] == first.json()["revision"] and latest["status"] == "completed"
    assert latest["scenes_changed"] == [4]  # the built-in rule: "the last scene"
    assert len([r for r in done["revisions"] if r["instruction"] == body["instruction"]]) == 1


def test_cancelling_a_revision_keeps_the_job_and_its_video(api: httpx.Client, finished: dict):
    job_id = finished["job_id"]
    before, _ = wait_for(
        api,
        job_id,
        ALICE,
        until=lambda s: (
            s["status"] == "completed" and all(r["status"] != "processing" for r in s["revisions"])
        ),
        timeout=600,
    )
    latest = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).content
    accepted = _revise(api, job_id, {"scene": 2, "instruction": "Never mind this"})
    assert accepted.status_code == 202, accepted.text
    number = accepted.json()["revision"]
    cancelled = api.post(f"/api/v1/jobs/{job_id}/cancel", headers=ALICE)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["new_status"] == "completed"
    after = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
    assert after["status"] == "completed" and after["revisions"][-1]["revision"] == number
    assert after["revisions"][-1]["status"] == "cancelled"
    assert api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE).content == latest
    missing = api.get(f"/api/v1/videos/jobs/{job_id}/download?revision={number}", headers=ALICE)
    assert missing.status_code == 409  # it has no video
    again = _revise(api, job_id, {"scene": 1, "instruction": "Now this one"})
    assert again.status_code == 202 and again.json()["revision"] == number + 1
    assert len(before["revisions"]) + 2 == len(
        api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()["revisions"]
    )
