"""Manim code templates of the built-in coder: one short scene module per ScenePlan.

Every module imports only manim (plus math where a curve needs it), defines exactly one
Scene class and runs for about 4-7 seconds. Prose is Pango Text; LaTeX (MathTex) is used
only for formulas, so a LaTeX failure can be repaired by dropping to Text.
"""

from __future__ import annotations

import keyword
import math
import re
import textwrap
from collections.abc import Callable
from string import Template

from services.coder.models.builtin.latex import to_latex
from shared.plaintext import split_sentences
from shared.plans import ScenePlan

LINE_CHARS = 52  # wrap width for prose on screen (well under the ~90 char cap)

_TEX_ERROR = re.compile(r"latex|mathtex|\btex\b|\.tex\b|dvi|tex_file|tex error", re.IGNORECASE)

_HEADING = """\
heading = Text($title, font_size=40, color=BLUE_B)
heading.scale(min(1, 12.5 / heading.width)).to_edge(UP, buff=0.45)
"""
_SHOW_HEADING = "self.play(FadeIn(heading, shift=DOWN * 0.2), run_time=0.6)"

_INTRO = """\
title = VGroup(*[Text(line, font_size=54, weight=BOLD) for line in $title])
title.arrange(DOWN, buff=0.25)
title.scale(min(1, 12.5 / title.width, 3.2 / title.height)).move_to(UP * 0.7)
rule = Line(LEFT * 4, RIGHT * 4, color=BLUE).next_to(title, DOWN, buff=0.35)
subtitle = VGroup(*[Text(line, font_size=28, color=GREY_B) for line in $subtitle])
subtitle.arrange(DOWN, buff=0.15)
subtitle.scale(min(1, 12.5 / subtitle.width)).next_to(rule, DOWN, buff=0.4)
self.play(Write(title), run_time=1.2)
self.play(Create(rule), FadeIn(subtitle, shift=UP * 0.2), run_time=0.8)
self.wait(2)
"""

_ROWS = """\
rows = VGroup()
for text in $texts:
    body = Text(text, font_size=28, line_spacing=0.8)
    dot = Dot(color=BLUE).next_to(body, LEFT, buff=0.3).align_to(body, UP).shift(DOWN * 0.12)
    rows.add(VGroup(dot, body))
rows.arrange(DOWN, aligned_edge=LEFT, buff=0.45)
rows.scale(min(1, 12.6 / rows.width, 5.6 / rows.height))
rows.move_to(DOWN * 0.4)
"""

# One play per row, the first with the heading: row i is step i, so pacing puts it on
# beat i (the plan speaks one beat per row).
_FIRST_ROW = """\
self.play(FadeIn(heading, shift=DOWN * 0.2), FadeIn(rows[0], shift=RIGHT * 0.2), run_time=0.8)
self.wait(0.5)
"""
_NEXT_ROW = """\
self.play(FadeIn(rows[$index], shift=RIGHT * 0.2), run_time=0.7)
self.wait(0.5)
"""

_FORMULA = """\
formulas = VGroup($items).arrange(DOWN, buff=0.6)
formulas.scale(min(1, 12 / formulas.width, 3.6 / formulas.height)).move_to(UP * 0.4)
box = SurroundingRectangle(formulas, color=YELLOW, buff=0.3)
self.play(Write(formulas), run_time=1.5)
self.play(Create(box), run_time=0.5)
"""

_NOTE = """\
note = VGroup(*[Text(line, font_size=26, color=GREY_B) for line in $note])
note.arrange(DOWN, buff=0.12)
note.scale(min(1, 12.5 / note.width, 1.6 / note.height)).next_to(box, DOWN, buff=0.5)
self.play(FadeIn(note), run_time=0.6)
"""

_CAPTION = """\
caption = VGroup(*[Text(line, font_size=26, color=GREY_B) for line in $caption])
caption.arrange(DOWN, buff=0.12)
caption.scale(min(1, 12.5 / caption.width)).to_edge(DOWN, buff=0.35)
self.play(FadeIn(caption, shift=UP * 0.2), run_time=0.5)
self.wait(1.2)
"""


def wrap(text: str, width: int = LINE_CHARS) -> str:
    """Break text into display lines joined by newlines; never empty (Text needs a glyph)."""
    return "\n".join(textwrap.wrap(" ".join(text.split()), width=width)) or "…"


def _fill(template: str, **values: str) -> list[str]:
    return Template(template).substitute(values).splitlines()


def _lines(text: str, width: int) -> list[str]:
    """Lines to centre one under another (a multi-line Text would be left-aligned)."""
    return wrap(text, width).split("\n")


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "…"


def class_name(plan: ScenePlan) -> str:
    """The plan's class name when it is a usable identifier, else a safe stand-in."""
    name = plan.class_name
    if name.isidentifier() and not keyword.iskeyword(name) and name.isascii():
        return name
    return f"Scene{plan.number:02d}"


# Every scene ends on an empty frame, so the next one starts clean (the layout check's
# "leftover"); narrated, the fade follows the speech (timing.paced keeps it last).
CLOSING_FADE = "self.play(*[FadeOut(m) for m in self.mobjects], run_time=0.5)"


def _module(plan: ScenePlan, body: list[str], *, uses_math: bool = False) -> str:
    header = ["from manim import *"]
    if uses_math:
        header.append("import math")
    indented = [("        " + line) if line.strip() else "" for line in body]
    lines = [
        f"# Scene {plan.number}: {_one_line(plan.title)} (built-in model)",
        *header,
        "",
        "",
        f"class {class_name(plan)}(Scene):",
        "    def construct(self):",
        *indented,
        f"        {CLOSING_FADE}",
    ]
    return "\n".join(lines) + "\n"


def _heading(title: str) -> list[str]:
    return [*_fill(_HEADING, title=repr(_one_line(title))), _SHOW_HEADING]


def _rows(texts: list[str]) -> list[str]:
    wrapped = [wrap(t) for t in texts if t.strip()] or ["…"]
    body = _fill(_ROWS, texts=repr(wrapped)) + _fill(_FIRST_ROW)
    for index in range(1, len(wrapped)):
        body += _fill(_NEXT_ROW, index=str(index))
    hold = max(1.2, round(4.0 - 1.2 * len(wrapped), 1))
    return [*body, f"self.wait({hold})"]


def _intro(plan: ScenePlan) -> str:
    subtitle = plan.statements[0] if plan.statements else plan.narration
    body = _fill(
        _INTRO,
        title=repr(_lines(plan.title, 32)),
        subtitle=repr(_lines(subtitle, 64)),
    )
    return _module(plan, body)


def _statements(plan: ScenePlan, texts: list[str]) -> str:
    heading = _fill(_HEADING, title=repr(_one_line(plan.title)))
    return _module(plan, heading + _rows(texts))


def _formula(plan: ScenePlan, *, tex: bool) -> str:
    if tex:
        items = [f"MathTex({to_latex(f)!r}, font_size=64)" for f in plan.formulas]
    else:
        items = [f"Text({_one_line(f)!r}, font_size=48)" for f in plan.formulas]
    body = _heading(plan.title) + _fill(_FORMULA, items=", ".join(items))
    if plan.statements:
        body += _fill(_NOTE, note=repr(_lines(plan.statements[0], 64)))
    body.append("self.wait(2)")
    return _module(plan, body)


def _diagram(plan: ScenePlan, kind: str) -> str:
    variant = plan.diagram_variant or ""  # each drawing has a default for an unknown variant
    caption = plan.statements[0] if plan.statements else plan.title
    body = (
        _heading(plan.title)
        + _DRAWINGS[kind](variant)
        + _fill(_CAPTION, caption=repr(_lines(caption, 70)))
    )
    return _module(plan, body, uses_math=kind == "wave")


# --- diagrams: each draws inside the band between heading and caption --------------

_RIGHT_TRIANGLE = """\
A, B, C = LEFT * 2.5 + DOWN * 2, RIGHT * 2.5 + DOWN * 2, LEFT * 2.5 + UP * 1.6
shape = Polygon(A, B, C, color=BLUE, fill_opacity=0.25)
mark = VMobject(color=WHITE).set_points_as_corners(
    [A + RIGHT * 0.35, A + RIGHT * 0.35 + UP * 0.35, A + UP * 0.35]
)
labels = VGroup(
    Text("a", font_size=36).next_to(Line(A, C), LEFT, buff=0.25),
    Text("b", font_size=36).next_to(Line(A, B), DOWN, buff=0.25),
    Text("c", font_size=36, color=YELLOW).move_to((B + C) / 2 + RIGHT * 0.35 + UP * 0.45),
)
self.play(Create(shape), run_time=1)
self.play(Create(mark), FadeIn(labels), run_time=0.8)
self.play(Indicate(labels[2]), run_time=0.8)
"""

_GENERAL_TRIANGLE = """\
A, B, C = LEFT * 3 + DOWN * 1.9, RIGHT * 3 + DOWN * 1.9, LEFT * 0.8 + UP * 1.7
shape = Polygon(A, B, C, color=BLUE, fill_opacity=0.25)
corners = VGroup(
    Text("A", font_size=32).next_to(A, DL, buff=0.15),
    Text("B", font_size=32).next_to(B, DR, buff=0.15),
    Text("C", font_size=32).next_to(C, UP, buff=0.15),
)
sides = VGroup(
    Text("a", font_size=32, color=YELLOW).move_to((B + C) / 2 + RIGHT * 0.35 + UP * 0.3),
    Text("b", font_size=32, color=YELLOW).move_to((A + C) / 2 + LEFT * 0.4 + UP * 0.25),
    Text("c", font_size=32, color=YELLOW).next_to(Line(A, B), DOWN, buff=0.2),
)
self.play(Create(shape), FadeIn(corners), run_time=1.2)
self.play(LaggedStart(*[FadeIn(side, scale=1.5) for side in sides], lag_ratio=0.3), run_time=1.2)
self.wait(0.6)
"""

_TRIANGLE_PAIR = """\
first = VGroup(
    Line(LEFT * 5.5 + DOWN * 1.6, LEFT * 2.5 + DOWN * 1.6, color=BLUE),
    Line(LEFT * 2.5 + DOWN * 1.6, LEFT * 4.6 + UP * 0.6, color=GREEN),
    Line(LEFT * 4.6 + UP * 0.6, LEFT * 5.5 + DOWN * 1.6, color=YELLOW),
)
second = first.copy().scale($scale, about_point=LEFT * 5.5 + DOWN * 1.6).shift(RIGHT * 6)
names = VGroup()
for sides, letters in ((first, "ABC"), (second, "DEF")):
    names.add(Text(letters[0], font_size=30).next_to(sides[0].get_start(), DL, buff=0.1))
    names.add(Text(letters[1], font_size=30).next_to(sides[0].get_end(), DR, buff=0.1))
    names.add(Text(letters[2], font_size=30).next_to(sides[1].get_end(), UP, buff=0.1))
self.play(Create(first), run_time=1)
self.play(TransformFromCopy(first, second), run_time=1.2)
self.play(FadeIn(names), run_time=0.6)
self.play(Indicate(first[0]), Indicate(second[0]), run_time=0.8)
"""

_KITE = """\
top, right, bottom, left = UP * 1.9, RIGHT * 1.6 + UP * 0.7, DOWN * 2.5, LEFT * 1.6 + UP * 0.7
shape = Polygon(top, right, bottom, left, color=BLUE, fill_opacity=0.25)
diagonals = VGroup(DashedLine(top, bottom, color=GREY_B), DashedLine(left, right, color=GREY_B))
cross = UP * 0.7
mark = VMobject(color=WHITE).set_points_as_corners(
    [cross + RIGHT * 0.25, cross + RIGHT * 0.25 + UP * 0.25, cross + UP * 0.25]
)
labels = VGroup(
    Text("a", font_size=32, color=YELLOW).move_to((top + left) / 2 + LEFT * 0.35 + UP * 0.3),
    Text("a", font_size=32, color=YELLOW).move_to((top + right) / 2 + RIGHT * 0.35 + UP * 0.3),
    Text("b", font_size=32, color=YELLOW).move_to((bottom + left) / 2 + LEFT * 0.45),
    Text("b", font_size=32, color=YELLOW).move_to((bottom + right) / 2 + RIGHT * 0.45),
)
self.play(Create(shape), run_time=1)
self.play(FadeIn(labels), run_time=0.6)
self.play(Create(diagonals), run_time=0.8)
self.play(Create(mark), run_time=0.4)
self.wait(0.6)
"""

_CIRCLE = """\
O, R = DOWN * 0.3, 2.1
axes = VGroup(Line(O + LEFT * 3, O + RIGHT * 3), Line(O + DOWN * 2.5, O + UP * 2.5))
axes.set_color(GREY)
axis_names = VGroup(
    Text($x_name, font_size=26, color=GREY_B).next_to(axes[0], RIGHT, buff=0.15),
    Text($y_name, font_size=26, color=GREY_B).next_to(axes[1], UP, buff=0.1),
)
circle = Circle(radius=R, color=BLUE).move_to(O)
base = Line(O, O + RIGHT * R, color=GREY_B)
arm = Line(O, O + RIGHT * R, color=YELLOW)
tip = Dot(O + RIGHT * R, color=YELLOW)
self.play(Create(axes), Create(circle), FadeIn(axis_names), run_time=1)
self.add(base)
self.play(Create(arm), FadeIn(tip), run_time=0.5)
self.play(Rotate(VGroup(arm, tip), angle=PI / 3, about_point=O), run_time=1.2)
arc = Arc(radius=0.6, start_angle=0, angle=PI / 3, arc_center=O, color=YELLOW)
theta = Text("θ", font_size=30).move_to(O + RIGHT * 0.85 + UP * 0.45)
radius_name = Text($radius, font_size=30).move_to(O + RIGHT * 0.2 + UP * 1.15)
point_name = Text($point, font_size=30, color=YELLOW).next_to(tip, UR, buff=0.1)
self.play(Create(arc), FadeIn(theta, radius_name, point_name), run_time=0.7)
"""

_AXES = """\
axes = Axes(
    x_range=[0, 5, 1], y_range=[0, 5, 1], x_length=6.5, y_length=4.4, tips=False,
    axis_config={"color": GREY_B},
).move_to(DOWN * 0.2 + LEFT * 0.8)
x_name = Text($x_name, font_size=28).next_to(axes.x_axis.get_right(), RIGHT, buff=0.2)
y_name = Text($y_name, font_size=28).next_to(axes.y_axis.get_top(), UP, buff=0.15)
curve = axes.plot(lambda x: $expr, x_range=[$low, $high], color=YELLOW)
curve_name = Text($label, font_size=28, color=YELLOW).next_to(curve.get_end(), RIGHT, buff=0.2)
self.play(Create(axes), FadeIn(x_name, y_name), run_time=1)
self.play(Create(curve), run_time=1.5)
self.play(FadeIn(curve_name), run_time=0.5)
"""

_TANGENT = """\
tangent = TangentLine(curve, alpha=0.6, length=3, color=RED)
touch = Dot(curve.point_from_proportion(0.6), color=RED)
slope = Text("slope", font_size=26, color=RED).next_to(tangent.get_end(), UP, buff=0.1)
self.play(Create(tangent), FadeIn(touch, slope), run_time=0.8)
"""

# variant: (y as a function of x, x from, x to, x-axis name, y-axis name, curve label)
_CURVES: dict[str, tuple[str, float, float, str, str, str]] = {
    "inverse": ("4 / x", 0.85, 5, "V", "P", "P ∝ 1/V"),
    "line": ("0.9 * x", 0, 5, "x", "y", "y = k·x"),
    "exp": ("0.3 * 2 ** x", 0, 4, "x", "y", "y = a·2^x"),
    "parabola": ("0.18 * x ** 2", 0, 5, "x", "y", "y = f(x)"),
}

_FORCE = """\
ground = Line(LEFT * 5.5, RIGHT * 5.5, color=GREY).shift(DOWN * 1.6)
block = Square(side_length=1.4, color=BLUE, fill_opacity=0.5)
block.next_to(ground, UP, buff=0).shift(LEFT * 3)
mass = Text("m", font_size=36).move_to(block)
force = Arrow(block.get_right(), block.get_right() + RIGHT * 2.6, buff=0, color=RED)
force_name = Text("F", font_size=36, color=RED).next_to(force, UP, buff=0.1)
accel = Arrow(block.get_top() + UP * 0.5 + LEFT * 0.7, block.get_top() + UP * 0.5 + RIGHT * 1.2,
              buff=0, color=YELLOW)
accel_name = Text("a", font_size=36, color=YELLOW).next_to(accel, UP, buff=0.1)
body = VGroup(block, mass, force, force_name, accel, accel_name)
self.play(Create(ground), FadeIn(block, mass), run_time=0.8)
self.play(GrowArrow(force), FadeIn(force_name), run_time=0.7)
self.play(GrowArrow(accel), FadeIn(accel_name), run_time=0.6)
self.play(body.animate.shift(RIGHT * 2.5), run_time=1.2, rate_func=rush_into)
"""

_TORQUE = """\
pivot, end = LEFT * 3 + DOWN * 0.6, RIGHT * 2 + DOWN * 0.6
support = Triangle(color=GREY_B, fill_opacity=0.6).scale(0.35).next_to(pivot, DOWN, buff=0)
lever = Line(pivot, end, stroke_width=10, color=BLUE)
force = Arrow(end, end + UP * 2, buff=0, color=RED)
force_name = Text("F", font_size=34, color=RED).next_to(force, RIGHT, buff=0.15)
reach = DoubleArrow(pivot + DOWN * 0.8, end + DOWN * 0.8, buff=0, color=GREY_B)
reach_name = Text("r", font_size=32).next_to(reach, DOWN, buff=0.1)
turn = Arc(radius=0.9, start_angle=-PI / 6, angle=PI / 2, arc_center=pivot, color=YELLOW)
turn.add_tip(tip_length=0.2)
tau = Text("τ", font_size=34, color=YELLOW).move_to(pivot + LEFT * 0.4 + UP * 0.9)
self.play(Create(lever), FadeIn(support), run_time=0.8)
self.play(GrowArrow(force), FadeIn(force_name), run_time=0.6)
self.play(GrowFromCenter(reach), FadeIn(reach_name), run_time=0.6)
self.play(Create(turn), FadeIn(tau), run_time=0.6)
force_name.add_updater(lambda m: m.next_to(force, RIGHT, buff=0.15))
self.play(Rotate(VGroup(lever, force), angle=PI / 12, about_point=pivot), run_time=1)
"""

_NODES = """\
nodes = VGroup(*[
    VGroup($shape, Text(name, font_size=26)).move_to(RIGHT * x + UP * y)
    for name, (x, y) in zip($names, $spots)
])
links = VGroup(*[
    $link(nodes[a].get_center(), nodes[b].get_center(), buff=$buff, color=GREY_B)
    for a, b in $pairs
])
self.play(LaggedStart(*[GrowFromCenter(node) for node in nodes], lag_ratio=0.15), run_time=1.2)
self.play(LaggedStart(*[Create(link) for link in links], lag_ratio=0.15), run_time=1)
"""

_VISIT = """\
self.play(LaggedStart(*[nodes[i][0].animate.set_fill(YELLOW, opacity=0.7) for i in $visit],
                      lag_ratio=0.5), run_time=1.5)
"""

_CIRCLE_NODE = "Circle(radius=0.38, color=BLUE, fill_opacity=0.3)"
_BOX_NODE = "Rectangle(width=1.3, height=0.8, color=BLUE, fill_opacity=0.3)"

_NODE_EXTRAS = {
    "tree": """\
levels = VGroup(*[
    Text(f"level {i}", font_size=24, color=GREY_B).move_to(LEFT * 6 + UP * y)
    for i, y in enumerate((1.7, 0.2, -1.5))
])
self.play(FadeIn(levels), run_time=0.5)
""",
    "list": """\
null = Text("null", font_size=28, color=GREY_B).move_to(RIGHT * 5.2)
tail = Arrow(nodes[-1].get_right(), null.get_left(), buff=0.1, color=GREY_B)
head = Text("head", font_size=26, color=YELLOW).next_to(nodes[0], UP, buff=0.3)
self.play(GrowArrow(tail), FadeIn(null, head), run_time=0.6)
""",
    "cycle": """\
waits = Text("waits for", font_size=26, color=GREY_B).next_to(links[0], UP, buff=0.15)
self.play(FadeIn(waits), run_time=0.5)
""",
}

# name list, spots, links (pairs), link class, node shape, visit order
_GRAPHS: dict[str, tuple[list[str], list[tuple[float, float]], list[tuple[int, int]], str]] = {
    "tree": (
        [str(i) for i in range(1, 8)],
        [(0, 1.7), (-2.8, 0.2), (2.8, 0.2), (-4.2, -1.5), (-1.4, -1.5), (1.4, -1.5), (4.2, -1.5)],
        [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6)],
        "Line",
    ),
    "list": (
        ["12", "7", "30", "5"],
        [(-5, 0), (-2.4, 0), (0.2, 0), (2.8, 0)],
        [(0, 1), (1, 2), (2, 3)],
        "Arrow",
    ),
    "cycle": (
        ["P1", "P2", "P3", "P4"],
        [(-2, 1.3), (2, 1.3), (2, -1.7), (-2, -1.7)],
        [(0, 1), (1, 2), (2, 3), (3, 0)],
        "Arrow",
    ),
    "graph": (
        list("ABCDEF"),
        [(-4, -0.2), (-1.8, 1.3), (-1.8, -1.7), (1, 1.3), (1, -1.7), (3.6, -0.2)],
        [(0, 1), (0, 2), (1, 2), (1, 3), (2, 4), (2, 3), (3, 5), (4, 5)],
        "Line",
    ),
}


def _breadth_first(pairs: list[tuple[int, int]], count: int) -> list[int]:
    """Visit order from node 0, so the highlighted walk is a real BFS of the drawn graph."""
    order, frontier = [0], [0]
    while frontier:
        current = frontier.pop(0)
        for a, b in pairs:
            for here, there in ((a, b), (b, a)):
                if here == current and there not in order and there < count:
                    order.append(there)
                    frontier.append(there)
    return order


def _graph_nodes(variant: str) -> list[str]:
    variant = variant if variant in _GRAPHS else "graph"
    names, spots, pairs, link = _GRAPHS[variant]
    box = variant == "list"
    lines = _fill(
        _NODES,
        shape=_BOX_NODE if box else _CIRCLE_NODE,
        names=repr(names),
        spots=repr(spots),
        link=link,
        buff="0.7" if box else "0.4",
        pairs=repr(pairs),
    )
    lines += _fill(_NODE_EXTRAS.get(variant, ""))
    if variant == "tree":
        visit = [0, 1, 3]
    elif variant == "graph":
        visit = _breadth_first(pairs, len(names))
    else:
        visit = list(range(len(names)))
    return lines + _fill(_VISIT, visit=repr(visit))


_BARS = """\
values = $values
bars = VGroup()
for i, value in enumerate(values):
    rect = Rectangle(width=0.8, height=value * $unit, color=BLUE, fill_opacity=0.7)
    rect.move_to(RIGHT * ($x0 + 1.1 * i) + DOWN * 2.2, aligned_edge=DOWN)
    bars.add(VGroup(rect, Text(str(value), font_size=26).next_to(rect, UP, buff=0.12)))
base = Line(LEFT * $half, RIGHT * $half, color=GREY_B).shift(DOWN * 2.2)
self.play(Create(base), LaggedStart(*[GrowFromEdge(bar, DOWN) for bar in bars], lag_ratio=0.1),
          run_time=1.4)
"""

_BAR_VALUES = {
    "sort": [5, 2, 8, 3, 6, 1, 7, 4],
    "search": [4, 9, 2, 7, 5, 1, 8, 3],
    "geometric": [1, 2, 4, 8, 16],
    "arithmetic": [2, 4, 6, 8, 10, 12],
    "plain": [3, 6, 2, 7, 4, 5],
}


def _bars(variant: str) -> list[str]:
    values = _BAR_VALUES.get(variant, _BAR_VALUES["plain"])
    x0 = -1.1 * (len(values) - 1) / 2
    lines = _fill(
        _BARS,
        values=repr(values),
        unit=f"{3.6 / max(values):.4f}",
        x0=f"{x0:.2f}",
        half=f"{-x0 + 0.8:.2f}",
    )
    if variant == "sort":
        order = sorted(range(len(values)), key=lambda i: values[i])
        moves = [(i, round(x0 + 1.1 * slot, 2)) for slot, i in enumerate(order)]
        lines += [
            f"self.play(*[bars[i].animate.set_x(x) for i, x in {moves!r}], run_time=1.5)",
            "self.play(*[bar[0].animate.set_color(GREEN) for bar in bars], run_time=0.5)",
        ]
    elif variant == "search":
        target = values.index(5)
        lines += [
            'goal = Text("looking for 5", font_size=28, color=YELLOW).move_to(UP * 2.2)',
            "self.play(FadeIn(goal), run_time=0.4)",
            f"for i in range({target}):",
            "    self.play(bars[i][0].animate.set_color(RED), run_time=0.3)",
            f"self.play(bars[{target}][0].animate.set_color(GREEN), run_time=0.5)",
        ]
    else:
        top = values.index(max(values))
        lines += [
            f"self.play(bars[{top}][0].animate.set_color(YELLOW), run_time=0.5)",
            f"self.play(Indicate(bars[{top}]), run_time=0.8)",
        ]
    return lines


_ATOM = """\
O = DOWN * 0.3
nucleus = VGroup(Circle(radius=0.45, color=RED, fill_opacity=0.8), Text("+", font_size=36))
nucleus.move_to(O)
shells = VGroup(Circle(radius=1.3), Circle(radius=2.3)).set_stroke(GREY_B, 2).move_to(O)
inner = VGroup(*[Dot(O + RIGHT * x + UP * y, color=YELLOW) for x, y in $inner])
outer = VGroup(*[Dot(O + RIGHT * x + UP * y, color=YELLOW) for x, y in $outer])
nucleus_name = Text("nucleus", font_size=28).move_to(O + LEFT * 4.6)
electron_name = Text("electron", font_size=28).move_to(O + RIGHT * 4.6 + UP * 1.6)
pointers = VGroup(
    Arrow(nucleus_name.get_right(), nucleus.get_left(), buff=0.15, color=GREY_B),
    Arrow(electron_name.get_bottom(), outer[0].get_center(), buff=0.15, color=GREY_B),
)
self.play(FadeIn(nucleus, scale=0.5), Create(shells), run_time=1)
self.play(FadeIn(inner), FadeIn(outer), run_time=0.6)
self.play(Rotate(inner, angle=PI, about_point=O), Rotate(outer, angle=$turn, about_point=O),
          run_time=1.5)
self.play(FadeIn(nucleus_name, electron_name), Create(pointers), run_time=0.7)
"""


def _ring(radius: float, count: int, offset_degrees: float) -> list[tuple[float, float]]:
    """Evenly spaced electron spots; turning by one spacing lands on the same spots."""
    angles = [math.radians(offset_degrees + 360 * k / count) for k in range(count)]
    return [(round(radius * math.cos(a), 3), round(radius * math.sin(a), 3)) for a in angles]


def _atom(variant: str) -> list[str]:
    outer = 8 if variant == "full" else 4
    return _fill(
        _ATOM,
        inner=repr(_ring(1.3, 2, 90)),
        outer=repr(_ring(2.3, outer, 180 / outer)),
        turn=f"2 * PI / {outer}",
    )


_WAVE = """\
phase = ValueTracker(0)
axis = Line(LEFT * 6, RIGHT * 6, color=GREY).shift(DOWN * 0.4)
wave = always_redraw(lambda: FunctionGraph(
    lambda x: 1.2 * math.sin(1.5 * x - phase.get_value()), x_range=[-6, 6], color=BLUE,
).shift(DOWN * 0.4))
span = DoubleArrow(LEFT * 3.142 + UP * 1.5, RIGHT * 1.047 + UP * 1.5, buff=0, color=YELLOW)
span_name = Text("wavelength λ", font_size=28, color=YELLOW).next_to(span, UP, buff=0.1)
height = DoubleArrow(LEFT * 3.142 + DOWN * 0.4, LEFT * 3.142 + UP * 0.8, buff=0, color=GREEN)
height_name = Text("amplitude", font_size=28, color=GREEN)
height_name.next_to(height.get_top(), UL, buff=0.1)
self.play(Create(axis), Create(wave), run_time=1.2)
self.play(GrowFromCenter(span), FadeIn(span_name), run_time=0.6)
self.play(GrowFromCenter(height), FadeIn(height_name), run_time=0.6)
self.play(phase.animate.set_value(2 * PI), run_time=1.2, rate_func=linear)
"""


def _triangle(variant: str) -> list[str]:
    if variant == "kite":
        return _fill(_KITE)
    if variant in ("similar", "congruent"):
        return _fill(_TRIANGLE_PAIR, scale="1.5" if variant == "similar" else "1")
    return _fill(_GENERAL_TRIANGLE if variant == "general" else _RIGHT_TRIANGLE)


def _circle(variant: str) -> list[str]:
    if variant == "complex":
        names = {"x_name": "'Re'", "y_name": "'Im'", "radius": "'1'", "point": "'cos θ + i·sin θ'"}
    else:
        names = {"x_name": "'x'", "y_name": "'y'", "radius": "'r'", "point": "'P'"}
    return _fill(_CIRCLE, **names)


def _axes_plot(variant: str) -> list[str]:
    expr, low, high, x_name, y_name, label = _CURVES.get(variant, _CURVES["parabola"])
    lines = _fill(
        _AXES,
        expr=expr,
        low=str(low),
        high=str(high),
        x_name=repr(x_name),
        y_name=repr(y_name),
        label=repr(label),
    )
    return lines + (_fill(_TANGENT) if variant == "parabola" else [])


def _vectors(variant: str) -> list[str]:
    return _fill(_TORQUE if variant == "torque" else _FORCE)


def _wave(variant: str) -> list[str]:
    return _fill(_WAVE)


_DRAWINGS: dict[str, Callable[[str], list[str]]] = {
    "triangle": _triangle,
    "circle": _circle,
    "axes_plot": _axes_plot,
    "vectors": _vectors,
    "graph_nodes": _graph_nodes,
    "bars": _bars,
    "atom": _atom,
    "wave": _wave,
}


def _fallback_texts(plan: ScenePlan) -> list[str]:
    """Something to show for any plan: statements, formulas as text, or the narration."""
    texts = [*plan.statements, *plan.formulas]
    return texts[:3] or split_sentences(plan.narration)[:3] or [plan.title]


def write_code(plan: ScenePlan, *, tex: bool = True) -> str:
    """The Manim module for a plan; `tex=False` renders formulas as plain Text."""
    if plan.kind == "intro":
        return _intro(plan)
    if plan.kind == "formula" and plan.formulas:
        return _formula(plan, tex=tex)
    if plan.kind == "diagram" and plan.diagram in _DRAWINGS:
        return _diagram(plan, plan.diagram)
    return _statements(plan, plan.statements or _fallback_texts(plan))


def repair_code(plan: ScenePlan, *, code: str, error: str) -> str:
    """A simpler variant that renders: formulas as Text on a LaTeX error, else plain text.

    The failing `code` is not patched: the safe variant is regenerated from the plan, so
    the result does not depend on what broke.
    """
    if _TEX_ERROR.search(error):
        return write_code(plan, tex=False)
    return _statements(plan, _fallback_texts(plan))
