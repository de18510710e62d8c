"""`target_minutes` decides a video's length: the same topic asked for 1 and for 3 minutes,
planned and written by the built-in model, spoken by the offline voice, really rendered.

The built-in model cannot say more than the topic's context holds, so the test uses the
bundled topic with the longest context (Properties of Kites, 304 words). Its measured
lengths (low quality, Piper's voice) are the numbers the tolerances below come from:
see the README's "Video length" note.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from services.planner.budget import scene_budget
from tests.e2e.helpers import submit, terminal, wait_for
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

TOPIC = "Properties of Kites"
TOLERANCE = 0.2  # measured 13 % and 17 % short: see the module docstring


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("minutes"), DEFAULT_QUALITY="low", ACK_WAIT_SECONDS="6"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def videos(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[float, dict[str, Any]]:
    """Both jobs, submitted together, each with its scenes and its downloaded MP4."""
    folder = tmp_path_factory.mktemp("download")
    with httpx.Client(base_url=stack.base_url, timeout=60) as api:
        jobs = {m: submit(api, TOPIC, {}, target_minutes=m) for m in (1.0, 3.0)}
        result = {}
        for minutes, job_id in jobs.items():
            status, _ = wait_for(api, job_id, {}, terminal, timeout=1500)
            assert status["status"] == "completed", status.get("error")
            video = folder / f"{minutes}.mp4"
            video.write_bytes(api.get(f"/api/v1/videos/jobs/{job_id}/download").content)
            result[minutes] = {
                "scenes": api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"],
                "metadata": api.get(f"/api/v1/videos/jobs/{job_id}/metadata").json(),
                "video": video,
            }
    return result


def _seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


def test_more_minutes_make_more_scenes(videos):
    counts = {m: len(v["scenes"]) for m, v in videos.items()}
    assert counts[3.0] > counts[1.0]
    for minutes, count in counts.items():
        budget = scene_budget(minutes)
        assert budget.min_scenes <= count <= budget.max_scenes, (minutes, count)
    beats = {m: max(len(s["beats"]) for s in v["scenes"]) for m, v in videos.items()}
    assert beats[3.0] > beats[1.0]  # and deeper scenes: more beats in the longest


def test_the_video_is_about_as_long_as_asked(videos):
    lengths = {m: _seconds(v["video"]) for m, v in videos.items()}
    print({m: round(s, 1) for m, s in lengths.items()})  # the measurement, in the log
    for minutes, seconds in lengths.items():
        assert seconds == pytest.approx(
            videos[minutes]["metadata"]["video"]["duration_seconds"], abs=0.5
        )
        assert abs(seconds - 60 * minutes) <= TOLERANCE * 60 * minutes, (minutes, seconds)
    assert lengths[3.0] > 2 * lengths[1.0]
