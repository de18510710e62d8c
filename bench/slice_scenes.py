"""The slicing benchmark's scenes (video time): 60 s of typical 2D (equations, plots,
shapes, a tracker), 60 s of 2D with heavy per-frame updaters (a counter rebuilt every
frame, a traced path: the fast-forward costs what those updaters cost), 22.5 s of 3D."""

from __future__ import annotations

TYPICAL_2D = """\
from manim import *

# {salt}


class Typical2D(Scene):
    def construct(self):
        title = Text("Slicing", font_size=40).to_edge(UP)
        self.play(Write(title), run_time=2)
        axes = Axes(x_range=[-3, 3], y_range=[-1, 5], x_length=7, y_length=4).shift(DOWN * 0.5)
        self.play(Create(axes), run_time=2)
        t = ValueTracker(-2)
        for step in range(9):
            a = 0.3 + 0.1 * step
            graph = axes.plot(lambda x: a * x * x, color=random_bright_color())
            formula = MathTex(f"y = {a:.1f} x^2").to_corner(UR)
            dot = Dot(color=YELLOW).add_updater(
                lambda m, a=a: m.move_to(axes.c2p(t.get_value(), a * t.get_value() ** 2))
            )
            self.play(Create(graph), Write(formula), run_time=1.5)
            self.add(dot)
            self.play(t.animate.set_value(2), run_time=1.5)
            self.play(t.animate.set_value(-2), run_time=1)
            box = SurroundingRectangle(formula, color=BLUE)
            self.play(Create(box), dot.animate.scale(1.5), run_time=1)
            self.wait(0.5)
            self.play(FadeOut(graph, formula, box, dot), run_time=0.5)
        self.play(FadeOut(axes), title.animate.scale(1.5).move_to(ORIGIN), run_time=2)
"""

LONG_2D = """\
from manim import *

# {salt}


class Long2D(Scene):
    def construct(self):
        axes = Axes(x_range=[-4, 4], y_range=[-2, 2], x_length=10, y_length=5)
        dot = Dot(color=YELLOW)
        dot.add_updater(lambda m: m.move_to(axes.c2p(3 * np.sin(self.time / 2), np.cos(self.time))))
        path = TracedPath(dot.get_center, stroke_color=RED, dissipating_time=3)
        clock = DecimalNumber(0, num_decimal_places=1).to_corner(UR)
        clock.add_updater(lambda m: m.set_value(self.time))
        self.add(axes, dot, path, clock)
        graph = axes.plot(np.sin, color=BLUE)
        self.play(Create(graph), run_time=4)
        shapes = [Square(0.6), Circle(0.4), Triangle().scale(0.4), Star(outer_radius=0.4)]
        for step in range(14):
            k = 1 + (step % 5) * 0.4
            new = axes.plot(lambda x: np.sin(k * x) * (1 - step % 3 * 0.2), color=BLUE)
            self.play(Transform(graph, new), run_time=1.5)
            shape = shapes[step % 4].copy().set_color(random_bright_color())
            shape.move_to(axes.c2p(np.random.uniform(-3, 3), np.random.uniform(-1.5, 1.5)))
            shape.add_updater(lambda m, dt: m.rotate(dt))
            self.play(GrowFromCenter(shape), run_time=1)
            self.wait(1)
            self.play(FadeOut(shape), run_time=0.5)
"""

LONG_3D = """\
from manim import *

# {salt}


class Long3D(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_range=[-3, 3], y_range=[-3, 3], z_range=[-2, 2])
        surface = Surface(
            lambda u, v: axes.c2p(u, v, 0.6 * np.sin(u) * np.cos(v)),
            u_range=[-3, 3],
            v_range=[-3, 3],
            resolution=(10, 10),
            fill_opacity=0.8,
        )
        self.set_camera_orientation(phi=65 * DEGREES, theta=-45 * DEGREES)
        self.add(axes, surface)
        self.begin_ambient_camera_rotation(rate=0.25)
        for step in range(5):
            self.wait(1.5)
            self.move_camera(phi=(55 + 10 * (step % 2)) * DEGREES, run_time=1.5)
            self.play(surface.animate.set_fill(random_bright_color(), opacity=0.8), run_time=1)
            self.wait(0.5)
        self.stop_ambient_camera_rotation()
"""

SCENES = {
    "2d": ("Typical2D", TYPICAL_2D, 60.0),
    "2d_updaters": ("Long2D", LONG_2D, 60.0),
    "3d": ("Long3D", LONG_3D, 22.5),
}


def code(kind: str, salt: str) -> str:
    return SCENES[kind][1].replace("{salt}", salt)
