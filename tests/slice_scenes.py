"""Long-ish scenes whose state depends on their whole history: what slicing must reproduce.

Each has several animations (so it can be cut), and at least one kind of path-dependent
state: dt-driven updaters, traced paths, trackers, LaTeX transforms, seeded randomness,
always_redraw, the scene clock, wait_until, a 3D camera move.

Not here: a ``MovingCameraScene`` whose frame zooms while its mobjects rotate. Its *whole*
render is not reproducible in Manim 0.22 (4 whole renders in a row: one differed in 487
pixels of one frame), so no slicing can be compared with it frame for frame.
"""

from __future__ import annotations

HEADER = "from manim import *\nimport random\nimport numpy as np\n\n\n"

SCENES: dict[str, str] = {
    "updater_dt": """
class UpdaterDt(Scene):
    def construct(self):
        square = Square(0.8).shift(LEFT * 3)
        square.add_updater(lambda m, dt: m.shift(RIGHT * 0.4 * dt).rotate(dt))
        self.add(square)
        for _ in range(4):
            self.wait(0.8)
            self.play(square.animate.set_color(random_bright_color()), run_time=0.6)
""",
    "traced_path": """
class Traced(Scene):
    def construct(self):
        dot = Dot(RIGHT * 2)
        path = TracedPath(dot.get_center, stroke_color=YELLOW)
        self.add(dot, path)
        dot.add_updater(lambda m, dt: m.rotate(dt * 1.3, about_point=ORIGIN))
        for _ in range(4):
            self.wait(0.8)
            self.play(dot.animate.shift(UP * 0.3), run_time=0.6)
""",
    "value_tracker": """
class Tracker(Scene):
    def construct(self):
        t = ValueTracker(0)
        number = DecimalNumber(0).add_updater(lambda m: m.set_value(t.get_value()))
        bar = always_redraw(lambda: Rectangle(width=0.2 + t.get_value() / 5, height=0.4))
        total = ValueTracker(0)
        total.add_updater(lambda m, dt: m.increment_value(dt * t.get_value()))
        counter = DecimalNumber(0).to_edge(DOWN)
        counter.add_updater(lambda m: m.set_value(total.get_value()))
        self.add(number.to_edge(UP), bar, total, counter)
        for target in (3, 7, 2, 9, 5):
            self.play(t.animate.set_value(target), run_time=0.8)
            self.wait(0.3)
""",
    "mathtex": """
class Tex(Scene):
    def construct(self):
        steps = [MathTex("a^2", "+", "b^2"), MathTex("c^2"), MathTex("a^2 + b^2 = c^2")]
        current = steps[0]
        self.play(Write(current), run_time=0.8)
        for step in steps[1:]:
            self.play(TransformMatchingShapes(current, step), run_time=0.8)
            self.wait(0.4)
            current = step
        self.play(current.animate.scale(1.5).set_color(BLUE), run_time=0.6)
""",
    "random_placement": """
class Random(Scene):
    def construct(self):
        dots = VGroup()
        for _ in range(5):
            new = VGroup(*[Dot(np.random.uniform(-4, 4, 3) * [1, 0.6, 0], color=random_color())
                           for _ in range(6)])
            self.play(FadeIn(new, shift=random.choice([UP, DOWN])), run_time=0.5)
            dots.add(*new)
            self.wait(0.3)
        self.play(dots.animate.arrange_in_grid(rows=3), run_time=0.8)
""",
    "always_redraw": """
class Redraw(Scene):
    def construct(self):
        a, b = Dot(LEFT * 2), Dot(RIGHT * 2, color=RED)
        line = always_redraw(lambda: Line(a.get_center(), b.get_center()))
        b.add_updater(lambda m, dt: m.rotate(dt * 2, about_point=a.get_center()))
        self.add(a, b, line)
        for shift in (UP, RIGHT, DOWN, LEFT):
            self.play(a.animate.shift(shift), run_time=0.6)
            self.wait(0.4)
""",
    "scene_clock": """
class Clock(Scene):
    def construct(self):
        dot = always_redraw(lambda: Dot(RIGHT * 3 * np.sin(self.time), color=GREEN))
        trail = VMobject().set_points_as_corners([ORIGIN, ORIGIN])
        self.add_updater(lambda dt: trail.add_points_as_corners([dot.get_center() + UP]))
        self.add(dot, trail)
        for _ in range(5):
            self.wait(0.5)
            self.play(Flash(dot), run_time=0.5)
""",
    "wait_until": """
class WaitUntil(Scene):
    def construct(self):
        t = ValueTracker(0)
        t.add_updater(lambda m, dt: m.increment_value(dt))
        dot = Dot().add_updater(lambda m: m.move_to(RIGHT * (t.get_value() % 4 - 2)))
        self.add(t, dot)
        for limit in (0.7, 1.9, 2.6, 3.8):
            self.wait_until(lambda: t.get_value() > limit, max_time=3)
            self.play(dot.animate.set_color(random_bright_color()), run_time=0.4)
""",
    "lagged_spin": """
class Lagged(Scene):
    def construct(self):
        shapes = VGroup(*[RegularPolygon(n, color=random_bright_color()) for n in range(3, 8)])
        shapes.arrange(RIGHT, buff=0.3).scale(0.6)
        for shape in shapes:
            shape.add_updater(lambda m, dt: m.rotate(dt))
        self.add(shapes)
        for shape in shapes:
            self.play(Indicate(shape), shapes.animate.shift(UP * 0.2), run_time=0.6)
            self.wait(0.2)
""",
    "three_d": """
class Camera3D(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_length=4, y_length=4, z_length=3)
        cube = Cube(side_length=1, fill_opacity=0.7)
        cube.add_updater(lambda m, dt: m.rotate(dt, axis=UP))
        self.set_camera_orientation(phi=70 * DEGREES, theta=-40 * DEGREES)
        self.add(axes, cube)
        self.begin_ambient_camera_rotation(rate=0.4)
        self.wait(0.6)
        self.move_camera(phi=50 * DEGREES, theta=20 * DEGREES, run_time=0.8)
        self.wait(0.6)
        self.play(cube.animate.shift(OUT), run_time=0.6)
""",
}


def scene_code(name: str) -> str:
    return HEADER + SCENES[name].lstrip("\n")


def class_name(name: str) -> str:
    return SCENES[name].split("class ", 1)[1].split("(", 1)[0]
