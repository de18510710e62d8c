"""The API rewrite table: each rule on its idiom, and the engine's guarantees."""

from __future__ import annotations

import ast
import textwrap

import pytest

from shared.api_rewrites import active_rules, installed, rewrite_api, rewrites_report
from shared.api_rewrites.rules import KEYWORD_FIXES, RENAMES, RULES


def scene(body: str, base: str = "Scene") -> str:
    body = textwrap.indent(textwrap.dedent(body).strip(), " " * 8)
    return f"from manim import *\n\n\nclass S({base}):\n    def construct(self):\n{body}\n"


# (rule, scene base, body before, body after)
CASES = [
    ("rename", "Scene", "self.play(ShowCreation(c))", "self.play(Create(c))"),
    ("rename", "Scene", 'e = TexMobject("x^2")', 'e = MathTex("x^2")'),
    ("rename", "Scene", 'e = TexText("Hi")', 'e = Tex("Hi")'),
    ("rename", "Scene", "w = FRAME_WIDTH / 2", "w = config.frame_width / 2"),
    ("rename", "Scene", "s = ParametricSurface(f)", "s = Surface(f)"),
    ("rename", "Scene", "self.play(WiggleOutThenIn(t))", "self.play(Wiggle(t))"),
    (
        "text_mobject",
        "Scene",
        't = TextMobject("Hello", color=RED)',
        't = Text("Hello", color=RED)',
    ),
    ("text_mobject", "Scene", 't = TextMobject("Area $= r^2$")', 't = Tex("Area $= r^2$")'),
    ("text_mobject", "Scene", 't = TextMobject("a", "b")', 't = Tex("a", "b")'),
    ("fade_from", "Scene", "self.play(FadeInFrom(m, LEFT))", "self.play(FadeIn(m, shift=RIGHT))"),
    (
        "fade_from",
        "Scene",
        "self.play(FadeInFrom(m, 2 * UP, run_time=2))",
        "self.play(FadeIn(m, shift=-(2 * UP), run_time=2))",
    ),
    ("fade_from", "Scene", "self.play(FadeInFrom(m))", "self.play(FadeIn(m, shift=UP))"),
    ("fade_from", "Scene", "self.play(FadeInFromDown(m))", "self.play(FadeIn(m, shift=UP))"),
    (
        "fade_from",
        "Scene",
        "self.play(FadeOutAndShift(m, LEFT))",
        "self.play(FadeOut(m, shift=LEFT))",
    ),
    (
        "fade_from",
        "Scene",
        "self.play(FadeOutAndShiftDown(m))",
        "self.play(FadeOut(m, shift=DOWN))",
    ),
    (
        "fade_from_large",
        "Scene",
        "self.play(FadeInFromLarge(m, scale_factor=3))",
        "self.play(FadeIn(m, scale=3))",
    ),
    ("fade_direction", "Scene", "self.play(FadeIn(m, UP))", "self.play(FadeIn(m, shift=UP))"),
    (
        "fade_direction",
        "Scene",
        "self.play(FadeOut(m, 2 * RIGHT))",
        "self.play(FadeOut(m, shift=2 * RIGHT))",
    ),
    (
        "removed_animation",
        "Scene",
        "self.play(ShowCreationThenDestruction(m))",
        "self.play(ShowPassingFlash(m, time_width=2.0))",
    ),
    (
        "removed_animation",
        "Scene",
        "self.play(ShowCreationThenFadeOut(m, run_time=2))",
        "self.play(Succession(Create(m), FadeOut(m), run_time=2))",
    ),
    ("removed_animation", "Scene", "self.play(FlashAround(m))", "self.play(Circumscribe(m))"),
    (
        "removed_animation",
        "Scene",
        "self.play(CircleIndicate(m))",
        "self.play(Circumscribe(m, Circle))",
    ),
    (
        "apply_method",
        "Scene",
        "self.play(ApplyMethod(m.shift, UP))",
        "self.play(m.animate.shift(UP))",
    ),
    (
        "apply_method",
        "Scene",
        "self.play(ApplyMethod(m.set_color, RED, run_time=2))",
        "self.play(m.animate(run_time=2).set_color(RED))",
    ),
    (
        "play_method",
        "Scene",
        "self.play(m.shift, UP, run_time=2)",
        "self.play(m.animate.shift(UP), run_time=2)",
    ),
    (
        "play_method",
        "Scene",
        "self.play(m.move_to, ORIGIN, FadeIn(t))",
        "self.play(m.animate.move_to(ORIGIN), FadeIn(t))",
    ),
    ("positional_run_time", "Scene", "self.play(Write(t, 2))", "self.play(Write(t, run_time=2))"),
    (
        "old_ranges",
        "Scene",
        "a = Axes(x_min=0, x_max=3, y_min=-1, y_max=9, tips=False)",
        "a = Axes(x_range=[0, 3], y_range=[-1, 9], tips=False)",
    ),
    (
        "old_ranges",
        "Scene",
        "n = NumberLine(x_min=-3, x_max=3, tick_frequency=1)",
        "n = NumberLine(x_range=[-3, 3, 1])",
    ),
    (
        "old_ranges",
        "Scene",
        "c = ParametricFunction(f, t_min=0, t_max=TAU)",
        "c = ParametricFunction(f, t_range=[0, TAU])",
    ),
    ("old_ranges", "Scene", "g = ax.plot(f, x_min=0, x_max=2)", "g = ax.plot(f, x_range=[0, 2])"),
    ("keyword_fix", "Scene", "c = Circle(r=2)", "c = Circle(radius=2)"),
    ("keyword_fix", "Scene", 't = Text("a", size=2)', 't = Text("a", font_size=96)'),
    ("keyword_fix", "Scene", 't = MathTex("a", size=36)', 't = MathTex("a", font_size=36)'),
    ("keyword_fix", "Scene", "b = Brace(m, DOWN, width_multiplier=2)", "b = Brace(m, DOWN)"),
    (
        "keyword_fix",
        "Scene",
        "g = GrowFromCenter(m, scale_factor=2, run_time=1)",
        "g = GrowFromCenter(m, run_time=1)",
    ),
    (
        "keyword_fix",
        "Scene",
        "c = BarChart([1, 2], max_value=4)",
        "c = BarChart([1, 2], y_range=[0, 4])",
    ),
    (
        "keyword_fix",
        "Scene",
        'l = ax.get_axis_labels(x_label_tex="t", y_label_tex="v")',
        'l = ax.get_axis_labels(x_label="t", y_label="v")',
    ),
    (
        "keyword_fix",
        "ThreeDScene",
        "self.set_camera_orientation(phi=1, distance=8)",
        "self.set_camera_orientation(phi=1, focal_distance=8)",
    ),
    (
        "keyword_fix",
        "Scene",
        "n = NumberLine(x_range=[0, 3], numbers_to_show=[1])",
        "n = NumberLine(x_range=[0, 3], numbers_to_include=[1])",
    ),
    ("get_graph", "Scene", "g = axes.get_graph(lambda x: x)", "g = axes.plot(lambda x: x)"),
    ("keyword_fix", "Scene", "a = Axes(width=6, height=4)", "a = Axes(x_length=6, y_length=4)"),
    ("keyword_fix", "Scene", "n = NumberLine(width=8)", "n = NumberLine(length=8)"),
    ("rename", "Scene", "c = Circle(color=DARK_GREEN)", "c = Circle(color=GREEN_E)"),
    ("rename", "Scene", "c = Circle(color=GREEN_SCREEN)", "c = Circle(color=PURE_GREEN)"),
    (
        "keyword_fix",
        "Scene",
        'e = MathTex("a+b", isolate=["a"], t2c={"a": RED})',
        'e = MathTex("a+b", substrings_to_isolate=["a"], tex_to_color_map={"a": RED})',
    ),
    (
        "keyword_fix",
        "Scene",
        't = Text("ab", tex_to_color_map={"a": RED})',
        't = Text("ab", t2c={"a": RED})',
    ),
    ("keyword_fix", "Scene", "s = Sector(outer_radius=2)", "s = Sector(radius=2)"),
    (
        "camera_frame",
        "ThreeDScene",
        "self.play(self.camera.frame.animate.scale(0.5))",
        "self.move_camera(zoom=self.camera.get_zoom() / (0.5))",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.camera.frame.move_to(d)",
        "self.set_camera_orientation(frame_center=d)",
    ),
    ("tex_math", "Scene", 'e = Tex("x^2 + y^2")', 'e = MathTex("x^2 + y^2")'),
    ("tex_math", "Scene", r'e = Tex(r"\frac{a}{b}")', r'e = MathTex(r"\frac{a}{b}")'),
    ("fix_in_frame", "ThreeDScene", "t.fix_in_frame()", "self.add_fixed_in_frame_mobjects(t)"),
    (
        "fix_in_frame",
        "ThreeDScene",
        "t.unfix_from_frame()",
        "self.remove_fixed_in_frame_mobjects(t)",
    ),
    (
        "fix_in_frame",
        "ThreeDScene",
        't = Text("a").fix_in_frame()',
        't = Text("a")\nself.add_fixed_in_frame_mobjects(t)',
    ),
    (
        "fix_in_frame",
        "ThreeDScene",
        'self.add(Text("a").fix_in_frame())',
        'self.add_fixed_in_frame_mobjects(Text("a"))',
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.camera.frame.set_euler_angles(theta=1, phi=2)",
        "self.set_camera_orientation(theta=1, phi=2)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "frame = self.camera.frame\nframe.set_euler_angles(1, 2)",
        "self.set_camera_orientation(theta=1, phi=2)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.camera.frame.set_euler_angles(theta=30, phi=60, units=DEGREES)",
        "self.set_camera_orientation(theta=(30) * DEGREES, phi=(60) * DEGREES)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.frame.reorient(20, 70)",
        "self.set_camera_orientation(theta=(20) * DEGREES, phi=(70) * DEGREES)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.camera.frame.increment_theta(0.5)",
        "self.set_camera_orientation(theta=self.camera.get_theta() + (0.5))",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.play(self.camera.frame.animate.set_phi(1), FadeIn(m), run_time=2)",
        "self.move_camera(phi=1, added_anims=[FadeIn(m)], run_time=2)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "self.play(self.camera.animate.set_euler_angles(phi=1))",
        "self.move_camera(phi=1)",
    ),
    (
        "camera_frame",
        "ThreeDScene",
        "f = self.camera.frame\nf.add_updater(lambda m, dt: m.increment_theta(0.1 * dt))\n"
        "self.wait()\nf.clear_updaters()",
        "self.begin_ambient_camera_rotation(rate=0.1)\nself.wait()\n"
        "self.stop_ambient_camera_rotation()",
    ),
    (
        "moving_camera",
        "MovingCameraScene",
        "self.play(self.frame.animate.scale(0.5))",
        "self.play(self.camera.frame.animate.scale(0.5))",
    ),
    (
        "moving_camera",
        "MovingCameraScene",
        "self.play(self.camera.animate.move_to(d))",
        "self.play(self.camera.frame.animate.move_to(d))",
    ),
    ("embed", "Scene", "self.wait()\nself.embed()", "self.wait()"),
]


@pytest.mark.parametrize(("rule", "base", "before", "after"), CASES)
def test_rule_rewrites_its_idiom(rule: str, base: str, before: str, after: str) -> None:
    code, rewrites = rewrite_api(scene(before, base))
    assert code == scene(after, base)
    assert rule in {r.rule for r in rewrites}
    assert rewrite_api(code) == (code, [])  # idempotent: nothing left to rewrite


def test_every_rule_and_table_entry_has_a_case() -> None:
    assert {rule.name for rule in RULES} - {"scene_base", "config_dict"} <= {c[0] for c in CASES}


def test_every_rule_is_active_with_the_installed_manim() -> None:
    assert [r.name for r in active_rules()] == [r.name for r in RULES]
    for requirement in [req for rule in RULES for req in rule.requires]:
        assert installed.has(requirement), requirement
    for new, requirement in RENAMES.values():
        assert installed.has(requirement), new
    for target, requirement in KEYWORD_FIXES.values():
        assert installed.has(requirement), target


def test_requirements_reject_what_the_installed_manim_lacks() -> None:
    assert not installed.has("ShowCreation")
    assert not installed.has("Axes.get_graph")
    assert not installed.has("Text(size)")  # **kwargs alone does not count
    assert installed.has("ThreeDScene.move_camera(frame_center)")
    assert not installed.has("ThreeDScene.move_camera(distance)")
    assert installed.has("FadeIn(shift)")  # found up the MRO (_Fade)


def test_a_rule_whose_target_is_missing_is_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installed, "has", lambda requirement: requirement != "Create")
    active_rules.cache_clear()
    try:
        code, rewrites = rewrite_api(scene("self.play(ShowCreation(c))"))
        assert "ShowCreation" in code and rewrites == []
    finally:
        active_rules.cache_clear()


def test_scene_base_follows_the_camera_idioms() -> None:
    code, rewrites = rewrite_api(scene("t = Text('a')\nt.fix_in_frame()"))
    assert "class S(ThreeDScene):" in code
    assert "self.add_fixed_in_frame_mobjects(t)" in code
    code, _ = rewrite_api(scene("self.set_camera_orientation(phi=1)"))
    assert "class S(ThreeDScene):" in code
    code, _ = rewrite_api(scene("self.play(self.camera.frame.animate.scale(0.5))"))
    assert "class S(MovingCameraScene):" in code
    assert "self.camera.frame.animate.scale(0.5)" in code
    assert rewrite_api(scene("self.wait()")) == (scene("self.wait()"), [])
    assert {"scene_base", "fix_in_frame"} <= {r.rule for r in rewrites}


def test_config_dict_becomes_class_attributes() -> None:
    code = (
        "from manim import *\n\nclass S(Scene):\n"
        '    CONFIG = {"radius": 2, "camera_config": {"background_color": WHITE}}\n\n'
        "    def construct(self):\n        self.add(Circle(radius=self.radius))\n"
    )
    new, rewrites = rewrite_api(code)
    tree = ast.parse(new)
    cls = tree.body[1]
    assert isinstance(cls, ast.ClassDef)
    assigned = [s.targets[0].id for s in cls.body if isinstance(s, ast.Assign)]  # type: ignore[attr-defined]
    assert assigned == ["radius", "camera_config"]
    assert "self.camera.background_color = WHITE" in new
    assert [r.rule for r in rewrites] == ["config_dict"]


def test_names_the_code_defines_are_left_alone() -> None:
    code = scene("self.play(ShowCreation(c))").replace(
        "class S", "def ShowCreation(m):\n    return Create(m)\n\n\nclass S"
    )
    assert rewrite_api(code) == (code, [])


def test_comments_layout_and_other_code_survive() -> None:
    code = scene("# draw it\nc = Circle(  color=RED )  # red\nself.play(ShowCreation(c))")
    new, _ = rewrite_api(code)
    assert new == code.replace("ShowCreation", "Create")


def test_code_that_does_not_parse_is_returned_unchanged() -> None:
    assert rewrite_api("class S(Scene:\n  ShowCreation(") == ("class S(Scene:\n  ShowCreation(", [])


def test_records_say_line_before_and_after_in_the_final_code() -> None:
    code = scene("t = Text('a').fix_in_frame()\nself.play(ShowCreation(t))", "ThreeDScene")
    new, rewrites = rewrite_api(code)
    lines = new.splitlines()
    for record in rewrites:
        assert record.after.splitlines()[0].strip() in lines[record.line - 1]
    by_rule = {r.rule: r for r in rewrites}
    assert by_rule["rename"].before == "ShowCreation"
    assert by_rule["rename"].line == 8  # moved down by the line fix_in_frame added above it


def test_unicode_before_an_idiom_keeps_spans_exact() -> None:
    code = scene('t = Text("π ≈ 3.14"); self.play(ShowCreation(t))')
    new, _ = rewrite_api(code)
    assert new == code.replace("ShowCreation", "Create")


def test_report_lists_each_rewrite_for_the_model() -> None:
    _, rewrites = rewrite_api(scene("self.play(ShowCreation(c))"))
    report = rewrites_report(rewrites)
    assert "line 6: ShowCreation -> Create" in report
    assert rewrites_report([]) == ""


def test_unknown_names_are_left_for_the_checks() -> None:
    code = scene("self.play(MadeUpAnimation(c))")
    assert rewrite_api(code) == (code, [])


async def test_valid_manim_ce_code_is_left_untouched() -> None:
    """No false alarms: the render samples and every built-in scene are already CE code."""
    from services.coder.models.builtin import BuiltinCoder
    from services.planner.models.builtin import BuiltinPlanner
    from tests.render_samples import LEGIT, scene_file
    from videogen.topics import load_topics

    assert rewrite_api(scene_file(*LEGIT.values()))[1] == []
    model, coder = BuiltinPlanner(), BuiltinCoder()
    rewritten = []
    for topic in load_topics():
        outline = await model.outline(topic=topic.topic, context=topic.context)
        for scene_outline in outline.scenes:
            plan = await model.plan_scene(
                topic=topic.topic,
                context=topic.context,
                outline=outline,
                number=scene_outline.number,
            )
            if rewrite_api(await coder.write_code(plan))[1]:
                rewritten.append((topic.topic, plan.number))
    assert rewritten == []
