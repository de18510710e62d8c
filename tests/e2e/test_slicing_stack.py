"""Long scenes rendered in slices by two renderer replicas of a real stack.

The joined clip is the whole render frame for frame, `/scenes` says it was sliced, a
repeat is a cache hit, and a replica killed with -9 while it renders a slice costs a
redelivery, not the scene: it completes with exactly one clip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from services.renderer.render import CliLauncher, render_scene
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

ALICE = {"Authorization": "Bearer key-alice"}


def long_scene(salt: str, check: str = "") -> str:
    """About 9 s of video in 12 animations; a traced path and a dt-driven counter, and a
    formula half off the frame in the first slice's range only (a layout finding)."""
    return f"""\
from manim import *


class Long(Scene):
    def construct(self):
        {check}
        stray = MathTex("abc").move_to(LEFT * 7.4)
        stray[0][2].set_color(RED)
        self.add(stray)
        dot = Dot(RIGHT * 2, color=YELLOW)
        path = TracedPath(dot.get_center, stroke_color=BLUE)
        total = ValueTracker(0)
        total.add_updater(lambda m, dt: m.increment_value(dt))
        counter = DecimalNumber(0).to_edge(UP)
        counter.add_updater(lambda m: m.set_value(total.get_value()))
        dot.add_updater(lambda m, dt: m.rotate(dt * 1.1, about_point=ORIGIN))
        self.add(dot, path, total, counter, Text("{salt}", font_size=18).to_edge(DOWN))
        for step in range(6):
            self.wait(0.8)
            if step == 1:
                self.remove(stray)
            self.play(dot.animate.shift(UP * 0.2), run_time=0.7)
"""


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, subprocess.Popen[bytes]]]:
    with isolated_stack(
        tmp_path_factory.mktemp("stack"),
        services=("gateway", "renderer", "storage"),
        API_KEYS="key-alice:alice",
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="5",
        MAX_CONCURRENT_RENDERS="1",
        SLICE_MIN_SECONDS="4",
        SLICE_MAX="2",
    ) as running:
        second = running.start_replica("renderer", 2)
        try:
            running.wait_ready()
            time.sleep(3)  # the second replica's warm pool imports Manim
            yield running, second
        finally:
            second.kill()
            second.wait(timeout=30)


@pytest.fixture(scope="module")
def api(stack: tuple[Stack, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack[0].base_url, timeout=60) as client:
        yield client


def _render(api: httpx.Client, code: str) -> str:
    response = api.post("/api/v1/videos/render", json={"code": code}, headers=ALICE)
    assert response.status_code == 201, response.text
    return str(response.json()["job_id"])


def _finished(api: httpx.Client, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = api.get(f"/api/v1/videos/jobs/{job_id}/status", headers=ALICE).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            assert status["status"] == "completed", status
            return dict(status)
        assert time.monotonic() < deadline, status
        time.sleep(0.3)


def _attempt(api: httpx.Client, job_id: str) -> dict[str, Any]:
    scenes = api.get(f"/api/v1/videos/jobs/{job_id}/scenes", headers=ALICE).json()["scenes"]
    assert len(scenes) == 1
    return dict(scenes[0]["attempts"][-1])


def _frames(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [
            hashlib.sha256(frame.to_ndarray(format="rgb24").tobytes()).hexdigest()
            for frame in container.decode(video=0)
        ]


def _download(api: httpx.Client, job_id: str, target: Path) -> Path:
    response = api.get(f"/api/v1/videos/jobs/{job_id}/download", headers=ALICE)
    assert response.status_code == 200
    target.write_bytes(response.content)
    return target


async def _whole(code: str, folder: Path) -> Path:
    clip = await render_scene(
        code,
        class_name="Long",
        quality="low",
        workdir=folder,
        timeout_seconds=300,
        launcher=CliLauncher(),
    )
    return clip.path


async def test_a_long_scene_is_sliced_and_equals_the_whole_render(
    api: httpx.Client, tmp_path: Path
) -> None:
    code = long_scene(uuid.uuid4().hex[:8])
    job_id = _render(api, code)
    _finished(api, job_id)
    attempt = _attempt(api, job_id)
    assert attempt["slices"] == 2, attempt
    assert "2 slices" in attempt["slicing"]
    # The last slice replays the whole history, so its layout records see the first's.
    off_frame = [f for f in attempt["findings"] if f["kind"] == "off_frame"]
    assert any("stray" in f["objects"] for f in off_frame), attempt["findings"]
    video = _download(api, job_id, tmp_path / "sliced.mp4")
    whole = await _whole(code, tmp_path / "whole")
    expected = _frames(whole)
    assert len(expected) > 100
    assert _frames(video) == expected

    again = _render(api, code)  # the same code: the joined clip was cached under its key
    _finished(api, again)
    assert _attempt(api, again)["slicing"] == "cached"


def test_a_scene_that_needs_the_real_glyphs_is_rendered_whole(api: httpx.Client) -> None:
    """The dry pass's formulas are placeholders; code that depends on their real glyphs
    fails there, and the scene is rendered whole instead of failing."""
    check = 'assert len(MathTex(r"\\alpha\\beta")[0]) == 2, "needs the real glyphs"'
    job_id = _render(api, long_scene(uuid.uuid4().hex[:8], check))
    _finished(api, job_id)
    attempt = _attempt(api, job_id)
    assert "the dry pass failed" in attempt["slicing"], attempt
    assert "needs the real glyphs" in attempt["slicing"]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def test_kill_9_of_a_replica_rendering_a_slice_still_completes_the_scene_once(
    stack: tuple[Stack, subprocess.Popen[bytes]], api: httpx.Client
) -> None:
    running, second = stack
    first = running.processes["renderer"]
    idle = {pid: len(_descendants(pid)) for pid in (first.pid, second.pid)}
    job_id = _render(api, long_scene(uuid.uuid4().hex[:8]))
    deadline = time.monotonic() + 120
    # Both replicas render at once only while both hold a slice (the owner waits slotless).
    while not all(len(_descendants(pid)) > idle[pid] for pid in idle):
        assert time.monotonic() < deadline, "the two replicas never rendered slices together"
        time.sleep(0.05)
    second.kill()
    second.wait(timeout=30)
    _finished(api, job_id)
    attempt = _attempt(api, job_id)
    assert attempt["slices"] == 2 and attempt["status"] == "rendered"
    events = api.get(f"/api/v1/jobs/{job_id}/events", headers=ALICE).json()["events"]
    rendered = [e for e in events if e["event_type"] == "scene.rendered"]
    assert len(rendered) == 1, rendered
