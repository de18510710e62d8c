"""Render-only jobs and subtitles through the whole stack (real NATS, one process per service).

Twenty varied legitimate scenes go through POST /api/v1/videos/render as one job and must
come out with the same per-scene durations and frame counts as the plain `manim` CLI; a
static scene becomes a still clip; broken and hostile code fail clearly; the same code
twice is a cache hit; a generated job's subtitles parse and follow the scene boundaries;
and a secret in the services' environment never shows up in any log or event.
"""

from __future__ import annotations

import asyncio
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

from shared.events import SceneRendered, VideoCombined, encode
from shared.history import read_job
from tests.render_samples import LEGIT, STATIC, scene_file
from videogen.stack import Stack, isolated_stack
from videogen.topics import find_topic

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}
CANARY = "sk-canary-7f3a9c1e"
RENDER_STAGES = ["initializing", "rendering", "combining", "storage", "completed"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("stack"),
        API_KEYS="key-alice:alice,key-bob:bob",
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="5",
        MAX_CONCURRENT_RENDERS="2",
        OPENAI_API_KEY=CANARY,
        AWS_SECRET_ACCESS_KEY=CANARY,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def _render(api: httpx.Client, code: str, scene: str | None = None) -> str:
    body = {"code": code, "scene": scene, "quality": "low"}
    response = api.post("/api/v1/videos/render", json=body, headers=ALICE)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    return response.json()["job_id"]


def _wait(api: httpx.Client, job_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"timed out; last status {status}")


def _probe(path: Path) -> tuple[float, int]:
    """(duration from the stream, decoded frame count)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base), frames


def _download(api: httpx.Client, job_id: str, target: Path) -> Path:
    response = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE)
    assert response.status_code == 200
    target.write_bytes(response.content)
    return target


def _events(stack: Stack, job_id: str) -> list[Any]:
    async def read() -> list[Any]:
        connection = await stack.connect()
        try:
            return await read_job(connection.jetstream(), job_id)
        finally:
            await connection.close()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def twenty_scenes(api: httpx.Client) -> tuple[str, dict[str, Any]]:
    job_id = _render(api, scene_file(*LEGIT.values()))
    return job_id, _wait(api, job_id)


def test_twenty_scenes_match_the_manim_cli(
    twenty_scenes: tuple[str, dict[str, Any]], stack: Stack, api: httpx.Client, tmp_path: Path
) -> None:
    job_id, status = twenty_scenes
    assert status["status"] == "completed", status["error"]
    assert [stage["stage"] for stage in status["stages"]] == RENDER_STAGES
    assert len(status["scenes"]) == len(LEGIT) >= 20
    video_seconds, video_frames = _probe(_download(api, job_id, tmp_path / "video.mp4"))

    # The plain CLI renders the same file, all scenes, in one process.
    source = tmp_path / "scenes.py"
    source.write_text(scene_file(*LEGIT.values()))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "manim",
            "render",
            "-ql",
            "-a",
            "--disable_caching",
            "--progress_bar",
            "none",
            "--media_dir",
            str(tmp_path / "media"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    rendered = {
        r.event.scene_number: r.event.duration_seconds
        for r in _events(stack, job_id)
        if isinstance(r.event, SceneRendered)
    }
    cli_frames = 0
    for number, name in enumerate(LEGIT, start=1):
        cli_seconds, frames = _probe(tmp_path / "media/videos/scenes/480p15" / f"{name}.mp4")
        assert rendered[number] == pytest.approx(cli_seconds, abs=1e-3), name
        cli_frames += frames
    assert video_frames == cli_frames
    assert video_seconds == pytest.approx(sum(rendered.values()), abs=0.1)


def test_static_scene_becomes_a_still_clip(api: httpx.Client, tmp_path: Path) -> None:
    job_id = _render(api, scene_file(STATIC))
    status = _wait(api, job_id)
    assert status["status"] == "completed", status["error"]
    seconds, frames = _probe(_download(api, job_id, tmp_path / "still.mp4"))
    assert seconds == pytest.approx(2.0, abs=0.1)
    assert frames == 30


def test_same_code_twice_is_a_cache_hit(
    twenty_scenes: tuple[str, dict[str, Any]], stack: Stack, api: httpx.Client
) -> None:
    job_id = _render(api, scene_file(*LEGIT.values()), scene="Shapes")
    assert _wait(api, job_id)["status"] == "completed"
    lines = [
        line
        for line in (stack.data_dir / "logs/renderer.log").read_text().splitlines()
        if job_id in line and '"render finished"' in line
    ]
    assert lines and all('"cached": true' in line for line in lines), lines


def test_broken_code_fails_the_job_with_line_and_excerpt(api: httpx.Client) -> None:
    code = scene_file(
        "\nclass Broken(Scene):\n    def construct(self):\n        self.play(Create(Circl()))\n"
    )
    status = _wait(api, _render(api, code))
    assert status["status"] == "failed"
    error = status["error"]
    assert error["code"] == "RENDER_FAILED" and error["stage"] == "rendering"
    assert error["details"]["kind"] == "crash"
    assert error["details"]["error_type"] == "NameError"
    assert error["details"]["line"] == 8
    assert "> 8 |" in error["details"]["code_excerpt"]


@pytest.mark.parametrize(
    ("body", "status_code", "field", "kind"),
    [
        (
            {"code": "from manim import *\nclass A(Scene):\n    def construct(self:\n"},
            422,
            "code",
            "syntax_error",
        ),
        ({"code": "x = 1\n"}, 422, "code", "no_scene"),
        (
            {"code": "from manim import *\nclass A(Scene):\n    pass\n", "scene": "B"},
            422,
            "scene",
            "unknown_scene",
        ),
    ],
    ids=["syntax", "no_scene", "unknown_scene"],
)
def test_render_request_is_validated_up_front(
    api: httpx.Client, body: dict[str, Any], status_code: int, field: str, kind: str
) -> None:
    response = api.post("/api/v1/videos/render", json=body, headers=ALICE)
    assert response.status_code == status_code, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field_errors"][0]["field"] == field
    assert error["details"]["field_errors"][0]["type"] == kind


def test_render_route_needs_auth_limits_size_and_hides_other_users_jobs(
    twenty_scenes: tuple[str, dict[str, Any]], api: httpx.Client
) -> None:
    code = "from manim import *\nclass A(Scene):\n    pass\n"
    assert api.post("/api/v1/videos/render", json={"code": code}).status_code == 401
    huge = api.post("/api/v1/videos/render", json={"code": code + "#" * 300_000}, headers=ALICE)
    assert huge.status_code == 413
    job_id = twenty_scenes[0]
    assert api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=BOB).status_code == 404


def test_generated_job_has_subtitles_that_follow_the_scenes(
    stack: Stack, api: httpx.Client
) -> None:
    topic = find_topic("Cramer's Rule")  # a short job: 3 scenes
    body = {
        "configuration": {
            "topic": topic.topic,
            "context": topic.context,
            "target_minutes": 0.5,
            "quality": "low",
            "enable_subtitles": True,
        }
    }
    response = api.post("/api/v1/videos/generate", json=body, headers=ALICE)
    job_id = response.json()["job_id"]
    assert _wait(api, job_id)["status"] == "completed"
    combined = next(r.event for r in _events(stack, job_id) if isinstance(r.event, VideoCombined))
    assert combined.subtitles_srt_ref and combined.subtitles_vtt_ref

    srt = api.get(f"/api/v1/videos/jobs/{job_id}/subtitles?format=srt", headers=ALICE)
    vtt = api.get(f"/api/v1/videos/jobs/{job_id}/subtitles?format=vtt", headers=ALICE)
    assert srt.status_code == vtt.status_code == 200
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT")
    for text, separator in ((srt.text, ","), (vtt.text, ".")):
        cues = _cues(text, separator)
        assert cues[0][0] == 0
        # narrated (the default): the last cue ends with the last word, inside the last
        # scene and before the video's end (services/renderer/spoken_cues.py)
        last_scene = round(combined.scene_offsets[-1] * 1000)
        assert last_scene < cues[-1][1] <= round(combined.duration_seconds * 1000)
        assert all(start < end for start, end in cues)
        starts = {start for start, _ in cues}
        assert {round(o * 1000) for o in combined.scene_offsets} <= starts


def test_no_secret_in_any_log_or_event(
    twenty_scenes: tuple[str, dict[str, Any]], stack: Stack
) -> None:
    for log in (stack.data_dir / "logs").glob("*.log"):
        assert CANARY not in log.read_text(errors="replace"), log.name
    for record in _events(stack, twenty_scenes[0]):
        assert record.event is not None
        assert CANARY.encode() not in encode(record.event)


def _cues(text: str, separator: str) -> list[tuple[int, int]]:
    sep = re.escape(separator)
    stamp = rf"(\d\d):(\d\d):(\d\d){sep}(\d\d\d)"
    found = re.findall(rf"{stamp} --> {stamp}", text)
    assert found, text[:200]

    def ms(h: str, m: str, s: str, f: str) -> int:
        return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)

    return [(ms(*match[:4]), ms(*match[4:])) for match in found]


OVERLAPPING = """from manim import *


class Crowded(Scene):
    def construct(self):
        title = Text("Title", font_size=48)
        note = Text("on top of it", font_size=40).move_to(title)
        self.play(FadeIn(title), FadeIn(note), run_time=0.5)
"""


def test_a_clients_scene_gets_layout_findings_but_no_repair(
    api: httpx.Client, stack: Stack
) -> None:
    job_id = _render(api, OVERLAPPING)
    status = _wait(api, job_id)
    assert status["status"] == "completed", status["error"]
    detail = api.get(f"/api/v1/videos/jobs/{job_id}/scenes", headers=ALICE).json()
    [attempt] = detail["scenes"][0]["attempts"]
    assert attempt["status"] == "rendered"
    [finding] = attempt["findings"]
    assert (finding["kind"], finding["objects"], finding["line"], finding["source"]) == (
        "overlap",
        ["title", "note"],
        6,
        "layout",
    )
    assert "scene.render_failed" not in {r.event_type for r in _events(stack, job_id)}
