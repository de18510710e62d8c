"""render_scene against real Manim: success, crashes, timeouts, cancellation, static scenes."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from services.renderer.render import (
    QUALITY_FLAGS,
    RenderedClip,
    RenderFailure,
    kill_process_group,
    parse_manim_error,
    render_scene,
)
from shared.mediaprobe import probe_video

LOOP_SCENE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.add(Circle())
        while True:
            pass
"""


def _group_gone(pgid: int, wait_seconds: float = 2.0) -> bool:
    """True once no process is left in the group (orphans may need a moment to be reaped)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


async def test_successful_render(rendered_clips: dict[str, RenderedClip]) -> None:
    clip = rendered_clips["circle"]
    assert clip.path.is_file()
    assert clip.path.suffix == ".mp4"
    assert "partial_movie_files" not in clip.path.parts
    assert clip.duration_seconds > 0.5
    assert clip.seconds_rendering > 0
    info = probe_video(clip.path)
    assert (info.width, info.height, info.fps) == (854, 480, 15.0)


async def test_name_error_reports_type_message_and_line(tmp_path: Path) -> None:
    code = (
        "from manim import *\n"
        "\n"
        "\n"
        "class Clip(Scene):\n"
        "    def construct(self):\n"
        "        self.play(Create(Square()), run_time=0.2)\n"
        "        c = Circl()\n"
        "        self.play(Create(c))\n"
    )
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            code, class_name="Clip", quality="low", workdir=tmp_path, timeout_seconds=60
        )
    failure = info.value
    assert failure.kind == "crash"
    assert failure.error_type == "NameError"
    assert failure.line == 7
    assert failure.message == "NameError: name 'Circl' is not defined (line 7)"
    assert "\n" not in failure.message
    assert "Circl" in failure.traceback
    assert 0 < len(failure.traceback) <= 8000


async def test_error_in_helper_under_long_path_points_at_deepest_scene_line(
    tmp_path: Path,
) -> None:
    # A long workdir makes Rich wrap the frame's file path across two lines.
    workdir = tmp_path / ("deeply_nested_directory_" * 4) / ("job-" + "0123456789abcdef" * 3)
    code = (
        "from manim import *\n"
        "\n"
        "\n"
        "def ratio(a, b):\n"
        "    return a / b\n"
        "\n"
        "\n"
        "class Clip(Scene):\n"
        "    def construct(self):\n"
        "        self.add(Text(str(ratio(1, 0))))\n"
    )
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            code, class_name="Clip", quality="low", workdir=workdir, timeout_seconds=60
        )
    failure = info.value
    assert len(str(workdir / "scene.py")) > 100
    assert failure.kind == "crash"
    assert failure.error_type == "ZeroDivisionError"
    assert failure.line == 5
    assert failure.message == "ZeroDivisionError: division by zero (line 5)"


async def test_syntax_error_fails_fast_with_line(tmp_path: Path) -> None:
    code = "from manim import *\n\nclass Clip(Scene):\n    def construct(self):\n        x = (1,\n"
    started = time.monotonic()
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            code, class_name="Clip", quality="low", workdir=tmp_path, timeout_seconds=60
        )
    assert time.monotonic() - started < 0.5  # no Manim start-up needed
    assert info.value.kind == "crash"
    assert info.value.error_type == "SyntaxError"
    assert info.value.line == 5
    assert info.value.message.endswith("(line 5)")


async def test_missing_scene_class_is_a_crash(tmp_path: Path) -> None:
    code = (
        "from manim import *\n\n"
        "class A(Scene):\n    def construct(self):\n        self.wait(0.1)\n\n"
        "class B(Scene):\n    def construct(self):\n        self.wait(0.1)\n"
    )
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            code, class_name="Missing", quality="low", workdir=tmp_path, timeout_seconds=60
        )
    assert info.value.kind == "crash"
    assert info.value.error_type == "SceneNotFound"
    assert "Missing" in info.value.message


async def test_infinite_loop_times_out_and_kills_process_group(tmp_path: Path) -> None:
    started: list[Any] = []
    begin = time.monotonic()
    with pytest.raises(RenderFailure) as info:
        await render_scene(
            LOOP_SCENE,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=5,
            on_start=started.append,
        )
    elapsed = time.monotonic() - begin
    assert info.value.kind == "timeout"
    assert "5 s" in info.value.message
    assert 5 <= elapsed < 12
    assert len(started) == 1
    assert started[0].returncode is not None
    assert _group_gone(started[0].pid)


async def test_kill_process_group_reports_cancelled(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    started: list[Any] = []

    def on_start(proc: Any) -> None:
        started.append(proc)
        loop.call_later(1.0, kill_process_group, proc)

    with pytest.raises(RenderFailure) as info:
        await render_scene(
            LOOP_SCENE,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=30,
            on_start=on_start,
        )
    assert info.value.kind == "cancelled"
    assert _group_gone(started[0].pid)
    assert kill_process_group(started[0]) is False  # already gone: harmless


async def test_cancelling_the_task_kills_the_render(tmp_path: Path) -> None:
    started = asyncio.Event()
    procs: list[asyncio.subprocess.Process] = []

    def on_start(proc: Any) -> None:
        procs.append(proc)
        started.set()

    task = asyncio.create_task(
        render_scene(
            LOOP_SCENE,
            class_name="Clip",
            quality="low",
            workdir=tmp_path,
            timeout_seconds=30,
            on_start=on_start,
        )
    )
    await asyncio.wait_for(started.wait(), timeout=10)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _group_gone(procs[0].pid)


async def test_static_scene_becomes_two_second_still_clip(tmp_path: Path) -> None:
    code = (
        "from manim import *\n\n\n"
        "class Clip(Scene):\n"
        "    def construct(self):\n"
        "        self.add(Square(color=GREEN, fill_opacity=1))\n"
    )
    clip = await render_scene(
        code, class_name="Clip", quality="low", workdir=tmp_path, timeout_seconds=60
    )
    assert clip.path.suffix == ".mp4"
    assert clip.duration_seconds == pytest.approx(2.0, abs=0.1)
    info = probe_video(clip.path)
    assert (info.width, info.height, info.fps, info.codec) == (854, 480, 15.0, "h264")
    assert info.frame_count == 30


async def test_rejects_unknown_quality_and_bad_class_name(tmp_path: Path) -> None:
    assert set(QUALITY_FLAGS) == {"low", "medium", "high", "ultra"}
    with pytest.raises(ValueError):
        await render_scene("", class_name="Clip", quality="4k", workdir=tmp_path, timeout_seconds=5)
    with pytest.raises(ValueError):
        await render_scene(
            "", class_name="Clip --foo", quality="low", workdir=tmp_path, timeout_seconds=5
        )


def test_parse_plain_python_traceback() -> None:
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/jobs/x/scene.py", line 12, in construct\n'
        "    self.play(Foo())\n"
        '  File "/venv/lib/python3.11/site-packages/manim/foo.py", line 3, in __init__\n'
        "    raise TypeError('bad argument')\n"
        "TypeError: bad argument\n"
    )
    assert parse_manim_error(stderr) == ("TypeError: bad argument (line 12)", "TypeError", 12)
    assert parse_manim_error("nothing useful here") == ("", None, None)
