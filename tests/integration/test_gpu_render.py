"""USE_GPU_ACCELERATION: Manim's OpenGL renderer, headless over EGL (Mesa's software
rasteriser on this machine, the GPU on a GPU node), with the same output contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.renderer.engine import RenderEngine
from services.renderer.handlers import build_engine
from services.renderer.render import CliLauncher
from services.renderer.warm import WarmPool
from shared.mediaprobe import probe_video
from shared.settings import load_settings

SCENE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.play(Create(Circle(color=BLUE)), run_time=1)
"""

STATIC = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.add(Square(color=GREEN, fill_opacity=1))
"""


def _egl_context_available() -> bool:
    probe = "import moderngl; moderngl.create_context(standalone=True, backend='egl')"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60)
    return result.returncode == 0


pytestmark = pytest.mark.skipif(
    not _egl_context_available(), reason="no OpenGL context over EGL can be created here"
)


def test_setting_selects_the_opengl_renderer() -> None:
    settings = load_settings(
        {"USE_GPU_ACCELERATION": "true", "RENDER_WARM_POOL": "false", "RENDER_CACHE_MB": "0"}
    )
    engine = build_engine(settings, clips=None)
    assert engine.renderer == "opengl" and engine.pool is None and engine.cache is None


@pytest.mark.parametrize("path", ["warm", "cli"])
async def test_opengl_renders_a_valid_mp4(path: str, pool: WarmPool, tmp_path: Path) -> None:
    engine = RenderEngine(
        timeout_seconds=120,
        renderer="opengl",
        pool=pool if path == "warm" else None,
        cli=CliLauncher(),
    )
    clip = await engine.render(SCENE, class_name="Clip", quality="low", workdir=tmp_path)
    info = probe_video(clip.path)
    assert (info.width, info.height, info.fps, info.codec) == (854, 480, 15.0, "h264")
    assert info.frame_count == 15
    assert clip.duration_seconds == pytest.approx(1.0, abs=0.01)
    assert (clip.renderer, clip.renderer_reason) == ("opengl", "RENDERER=opengl")


async def test_opengl_static_scene_is_a_still_clip(pool: WarmPool, tmp_path: Path) -> None:
    engine = RenderEngine(timeout_seconds=120, renderer="opengl", pool=pool)
    clip = await engine.render(STATIC, class_name="Clip", quality="low", workdir=tmp_path)
    info = probe_video(clip.path)
    assert (info.width, info.height, info.frame_count) == (854, 480, 30)
