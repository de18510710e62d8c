"""RENDERER=auto through the whole stack: a 3D and a 2D scene rendered in the real jail, each
reported with the renderer that drew it and why (scene.rendered, /scenes), and the joined
video decodes frame by frame."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from services.renderer.choice import AUTO_2D_REASON, AUTO_3D_REASON, AUTO_3D_RENDERER
from shared.events import SceneRendered
from shared.history import events_of, read_job
from tests.render_samples import scene_file
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

HEADERS = {"Authorization": "Bearer key-alice"}
# Scene 1 is 3D, scene 2 is 2D (one file, two classes: a render-only job of two scenes).
CODE = scene_file(
    """
class Cubes(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES, theta=-45 * DEGREES)
        self.add(ThreeDAxes(x_range=[-2, 2], y_range=[-2, 2], z_range=[-2, 2]))
        cube = Cube(side_length=1, fill_color=BLUE, fill_opacity=0.8)
        self.play(FadeIn(cube), run_time=1)
        self.move_camera(theta=30 * DEGREES, run_time=1)
""",
    """
class Flat(Scene):
    def construct(self):
        self.play(Create(Circle(color=GREEN)), run_time=1)
""",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # RENDERER is left unset: `auto` is the default.
    with isolated_stack(
        tmp_path_factory.mktemp("stack"), API_KEYS="key-alice:alice", DEFAULT_QUALITY="low"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def job(stack: Stack) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        response = api.post(
            "/api/v1/videos/render", json={"code": CODE, "quality": "low"}, headers=HEADERS
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["job_id"]
        status = _wait(api, job_id)
        assert status["status"] == "completed", status
        yield api, job_id


def test_each_scene_reports_its_renderer_and_why(job: tuple[httpx.Client, str]) -> None:
    api, job_id = job
    scenes = api.get(f"/api/v1/videos/jobs/{job_id}/scenes", headers=HEADERS).json()["scenes"]
    reported = {s["scene_number"]: s["attempts"][-1] for s in scenes}
    assert (reported[1]["renderer"], reported[1]["renderer_reason"]) == (
        AUTO_3D_RENDERER,
        AUTO_3D_REASON,
    )
    assert (reported[2]["renderer"], reported[2]["renderer_reason"]) == ("cairo", AUTO_2D_REASON)


def test_scene_rendered_events_carry_the_choice(
    stack: Stack, job: tuple[httpx.Client, str]
) -> None:
    _, job_id = job
    rendered = {e.scene_number: e for e in _events(stack, job_id) if isinstance(e, SceneRendered)}
    assert rendered[1].renderer == AUTO_3D_RENDERER
    assert rendered[1].renderer_reason.startswith("3D scene")
    assert rendered[2].renderer == "cairo"


def test_the_video_decodes_with_both_scenes(job: tuple[httpx.Client, str], tmp_path: Path) -> None:
    api, job_id = job
    response = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=HEADERS)
    assert response.status_code == 200
    video = tmp_path / "video.mp4"
    video.write_bytes(response.content)
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 45  # 2 s of 3D and 1 s of 2D at 15 fps
    assert frames[0].shape == (480, 854, 3)
    # Something was drawn in each scene (the cube; the circle), not a black clip.
    assert frames[20].max() > 100 and frames[44].max() > 100


def _wait(api: httpx.Client, job_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=HEADERS).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"timed out; last status {status}")


def _events(stack: Stack, job_id: str) -> list[Any]:
    async def read() -> list[Any]:
        connection = await stack.connect()
        try:
            return events_of(await read_job(connection.jetstream(), job_id))
        finally:
            await connection.close()

    return asyncio.run(read())
