"""Cheap checks before render: syntax, scene class, Manim names, allowed imports."""

from __future__ import annotations

from services.coder.checks import code_problems, manim_names

GOOD = """\
from manim import *
import numpy as np


class Good(Scene):
    def construct(self):
        axes = Axes()
        graph = axes.plot(lambda x: np.sin(x))
        dots = VGroup(*[Dot(axes.c2p(x, 0)) for x in range(3)])
        try:
            self.play(Create(axes), Create(graph), FadeIn(dots))
        except ValueError as error:
            print(error)
"""


def _problems(code: str, class_name: str = "Good") -> list[str]:
    return code_problems(code, class_name=class_name, known_names=manim_names())


def test_code_checks_pass_valid_scene():
    assert _problems(GOOD) == []


def test_code_checks_catch_a_name_manim_does_not_have():
    code = GOOD.replace("Create(axes)", "ShowCreation(axes)").replace("FadeIn", "FadeInn")
    problems = _problems(code)
    assert len(problems) == 2
    assert "'ShowCreation'" in problems[0] and "use Create" in problems[0]
    assert "'FadeInn'" in problems[1] and "did you mean FadeIn" in problems[1]


def test_code_checks_refuse_imports_outside_the_allow_list():
    code = "import os\nfrom subprocess import run\n" + GOOD
    problems = _problems(code)
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 2"]
    assert "'os'" in problems[0] and "'subprocess'" in problems[1]


def test_code_checks_report_syntax_errors_and_a_missing_class():
    assert _problems("def broken(:\n")[0].startswith("SyntaxError")
    assert "must define class Other" in _problems(GOOD, "Other")[0]


def test_code_checks_without_known_names_skip_the_name_check():
    assert (
        code_problems("from manim import *\nclass S(Scene):\n    x = Nope\n", class_name="S") == []
    )
