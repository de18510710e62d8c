"""The static render policy: hostile code is refused with a usable message, Manim code passes."""

from __future__ import annotations

import pytest

from shared.code_policy import policy_violations
from shared.scene_classes import scene_class_names
from tests.render_samples import HOSTILE_POLICY, LEGIT, STATIC, scene_file

EXTRA_LEGIT = {
    "main_guard": "from manim import *\nif __name__ == '__main__':\n    pass\n",
    "relative_image": "from manim import *\nimg = ImageMobject('assets/logo.png')\n",
    "literal_getattr": "from manim import *\nx = getattr(Circle(), 'radius')\n",
    "class_name": "from manim import *\nname = Circle().__class__.__name__\n",
    "str_replace": "label = 'a_b'.replace('_', ' ')\n",
    "itertools": "import itertools\nimport functools\nimport colorsys\nimport typing\n",
    "signal_variable": "signal = [1, 2, 3]\ninput_value = 2\n",
}


@pytest.mark.parametrize(
    ("name", "code", "word"), HOSTILE_POLICY, ids=[name for name, _, _ in HOSTILE_POLICY]
)
def test_policy_refuses_hostile_code_with_line_and_reason(name: str, code: str, word: str):
    violations = policy_violations(code)
    assert violations, f"{name} was allowed"
    assert all(v.startswith("line ") for v in violations)
    assert any(word in v for v in violations), violations


@pytest.mark.parametrize("name", sorted(LEGIT))
def test_policy_allows_legitimate_manim_scene(name: str):
    assert policy_violations(scene_file(LEGIT[name])) == []


@pytest.mark.parametrize("name", sorted(EXTRA_LEGIT))
def test_policy_allows_common_harmless_idioms(name: str):
    assert policy_violations(EXTRA_LEGIT[name]) == []


def test_policy_allows_the_twenty_scenes_together_and_the_static_one():
    assert len(LEGIT) >= 20
    assert policy_violations(scene_file(*LEGIT.values(), STATIC)) == []


def test_policy_leaves_syntax_errors_to_the_render():
    assert policy_violations("def broken(:\n") == []


def test_policy_message_names_the_line():
    code = "from manim import *\n\nimport subprocess\n"
    assert policy_violations(code)[0].startswith("line 3: import of 'subprocess'")


def test_scene_class_names_in_source_order_including_indirect_subclasses():
    code = scene_file(
        "\nclass Base(Scene):\n    pass\n",
        "\nclass Helper:\n    pass\n",
        "\nclass Child(Base):\n    pass\n",
        "\nclass Three(ThreeDScene):\n    pass\n",
        "\nclass Dotted(manim.Scene):\n    pass\n",
    )
    assert scene_class_names(code) == ["Base", "Child", "Three", "Dotted"]
    assert scene_class_names(scene_file(*LEGIT.values()))[:3] == list(LEGIT)[:3]
