"""RENDERER: which Manim renderer a scene gets (3D detected from the code's AST) and why."""

from __future__ import annotations

import pytest

from services.renderer.choice import (
    AUTO_2D_REASON,
    AUTO_3D_REASON,
    AUTO_3D_RENDERER,
    choose_renderer,
    is_3d_scene,
)
from shared.settings import SettingsError, load_settings

DIRECT = "from manim import *\n\nclass Clip(ThreeDScene):\n    def construct(self): pass\n"
FLAT = "from manim import *\n\nclass Clip(Scene):\n    def construct(self): pass\n"
INHERITED = """
from manim import *

class Base(ThreeDScene):
    pass

class Middle(Base):
    pass

class Clip(Middle):
    def construct(self): pass
"""
MIXED = """
from manim import *

class Flat(Scene):
    pass

class Deep(SpecialThreeDScene):
    pass
"""
QUALIFIED = "import manim\n\nclass Clip(manim.ThreeDScene):\n    pass\n"
ALIASED = "from manim import ThreeDScene as T3\n\nclass Clip(T3):\n    pass\n"
# A name that only *mentions* 3D, and a class whose base loops back on itself.
LOOKALIKE = "from manim import *\n\nclass ThreeDClip(MovingCameraScene):\n    pass\n"
CYCLE = "class A(B):\n    pass\n\nclass B(A):\n    pass\n"


@pytest.mark.parametrize(
    ("code", "class_name", "expected"),
    [
        (DIRECT, "Clip", True),
        (FLAT, "Clip", False),
        (INHERITED, "Clip", True),
        (MIXED, "Flat", False),
        (MIXED, "Deep", True),
        (QUALIFIED, "Clip", True),
        (ALIASED, "Clip", True),
        (LOOKALIKE, "ThreeDClip", False),
        (CYCLE, "A", False),
        (DIRECT, "Missing", False),
        ("class Clip(ThreeDScene:\n", "Clip", False),  # syntax error: not 3D, render says why
    ],
)
def test_3d_scenes_are_found_by_their_bases(code: str, class_name: str, expected: bool) -> None:
    assert is_3d_scene(code, class_name) is expected


def test_auto_gives_3d_scenes_the_measured_choice_and_says_why() -> None:
    choice = choose_renderer("auto", INHERITED, "Clip")
    assert (choice.renderer, choice.reason) == (AUTO_3D_RENDERER, AUTO_3D_REASON)
    assert "3D scene" in choice.reason


def test_auto_keeps_2d_scenes_on_cairo() -> None:
    choice = choose_renderer("auto", FLAT, "Clip")
    assert (choice.renderer, choice.reason) == ("cairo", AUTO_2D_REASON)


@pytest.mark.parametrize("mode", ["cairo", "opengl"])
def test_a_fixed_renderer_applies_to_every_scene(mode: str) -> None:
    for code in (DIRECT, FLAT):
        choice = choose_renderer(mode, code, "Clip")
        assert (choice.renderer, choice.reason) == (mode, f"RENDERER={mode}")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown renderer mode"):
        choose_renderer("vulkan", FLAT, "Clip")


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({}, "auto"),
        ({"RENDERER": "OpenGL"}, "opengl"),
        ({"RENDERER": "cairo"}, "cairo"),
        ({"USE_GPU_ACCELERATION": "true"}, "opengl"),  # the older switch for the same thing
        ({"USE_GPU_ACCELERATION": "true", "RENDERER": "opengl"}, "opengl"),
    ],
)
def test_renderer_setting(environ: dict[str, str], mode: str) -> None:
    assert load_settings(environ).renderer_mode == mode


def test_renderer_setting_refuses_bad_and_contradictory_values() -> None:
    with pytest.raises(SettingsError, match="RENDERER='gpu'"):
        load_settings({"RENDERER": "gpu"})
    with pytest.raises(SettingsError, match="contradicts RENDERER=cairo"):
        load_settings({"RENDERER": "cairo", "USE_GPU_ACCELERATION": "true"})
