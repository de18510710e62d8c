"""Shared fixtures: a few tiny real Manim clips rendered once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.renderer.render import RenderedClip, render_scene

CIRCLE_SCENE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.play(Create(Circle(color=BLUE)), run_time=1)
"""

SQUARE_SCENE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        square = Square(color=RED, fill_opacity=0.6)
        self.play(DrawBorderThenFill(square), run_time=1)
"""

# Starts on an empty (black) canvas: the thumbnail must not pick the first frame.
FADE_IN_SCENE = """\
from manim import *


class Clip(Scene):
    def construct(self):
        self.wait(0.6)
        title = Text("Thumbnail", font_size=96)
        box = Rectangle(width=10, height=4, color=YELLOW, fill_opacity=0.8)
        self.play(FadeIn(box), FadeIn(title), run_time=0.6)
        self.wait(0.3)
"""

SCENES = {"circle": CIRCLE_SCENE, "square": SQUARE_SCENE, "fade_in": FADE_IN_SCENE}


@pytest.fixture(scope="session")
async def rendered_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedClip]:
    """Render each tiny scene at low quality once (sequentially: the machine is small)."""
    root = tmp_path_factory.mktemp("clips")
    clips: dict[str, RenderedClip] = {}
    for name, code in SCENES.items():
        clips[name] = await render_scene(
            code,
            class_name="Clip",
            quality="low",
            workdir=root / name,
            timeout_seconds=120,
        )
    return clips


@pytest.fixture(scope="session")
def clip_paths(rendered_clips: dict[str, RenderedClip]) -> list[Path]:
    """The three clip files in a fixed order: circle, square, fade_in."""
    return [rendered_clips[name].path for name in ("circle", "square", "fade_in")]
