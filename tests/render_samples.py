"""Scene code the renderer must accept (varied, legitimate) and must refuse or stop (hostile).

Each legitimate scene is one small class (about a second of animation at -ql), so several
can share one file — the way users submit them to the render-only route.
"""

from __future__ import annotations

HEADER = "from manim import *\nimport numpy as np\nimport math\nimport random\n"

LEGIT: dict[str, str] = {
    "Shapes": """
class Shapes(Scene):
    def construct(self):
        group = VGroup(Circle(color=BLUE), Square(color=RED), Triangle(color=GREEN))
        self.play(Create(group.arrange(RIGHT)), run_time=1)
""",
    "TextFade": """
class TextFade(Scene):
    def construct(self):
        title = Text("Hello", font_size=72, color=YELLOW)
        self.play(FadeIn(title, shift=UP), run_time=0.6)
        self.play(FadeOut(title), run_time=0.4)
""",
    "Formula": r"""
class Formula(Scene):
    def construct(self):
        eq = MathTex(r"e^{i\pi} + 1 = 0")
        self.play(Write(eq), run_time=1)
""",
    "AxesPlot": """
class AxesPlot(Scene):
    def construct(self):
        axes = Axes(x_range=[-3, 3], y_range=[-1, 9], x_length=6, y_length=4)
        graph = axes.plot(lambda x: x ** 2, color=BLUE)
        self.play(Create(axes), Create(graph), run_time=1)
""",
    "NumberPlaneMove": """
class NumberPlaneMove(Scene):
    def construct(self):
        plane = NumberPlane()
        dot = Dot(color=RED)
        self.add(plane, dot)
        self.play(dot.animate.shift(RIGHT * 2 + UP), run_time=1)
""",
    "Tracker": """
class Tracker(Scene):
    def construct(self):
        tracker = ValueTracker(0)
        number = always_redraw(lambda: DecimalNumber(tracker.get_value()).to_edge(UP))
        self.add(number)
        self.play(tracker.animate.set_value(10), run_time=1, rate_func=linear)
""",
    "Updater": """
class Updater(Scene):
    def construct(self):
        dot = Dot()
        label = Text("dot", font_size=24)
        label.add_updater(lambda m: m.next_to(dot, UP))
        self.add(dot, label)
        self.play(dot.animate.shift(LEFT * 3), run_time=1)
""",
    "Transforming": """
class Transforming(Scene):
    def construct(self):
        square = Square()
        self.play(Transform(square, Circle(color=ORANGE)), run_time=1)
""",
    "RateFunctions": """
class RateFunctions(Scene):
    def construct(self):
        dots = VGroup(*[Dot(LEFT * 3 + UP * (i - 1)) for i in range(3)])
        self.add(dots)
        self.play(
            dots[0].animate(rate_func=smooth).shift(RIGHT * 6),
            dots[1].animate(rate_func=there_and_back).shift(RIGHT * 6),
            dots[2].animate(rate_func=rate_functions.ease_in_out_sine).shift(RIGHT * 6),
            run_time=1,
        )
""",
    "Colours": """
class Colours(Scene):
    def construct(self):
        squares = VGroup(*[Square(0.8, fill_opacity=1).set_color(interpolate_color(BLUE, RED, t))
                           for t in np.linspace(0, 1, 5)]).arrange(RIGHT)
        self.play(LaggedStart(*[GrowFromCenter(s) for s in squares]), run_time=1)
""",
    "RandomDots": """
class RandomDots(Scene):
    def construct(self):
        random.seed(3)
        dots = VGroup(*[Dot([random.uniform(-5, 5), random.uniform(-3, 3), 0])
                        for _ in range(20)])
        self.play(FadeIn(dots, lag_ratio=0.1), run_time=1)
""",
    "MathFunctions": """
class MathFunctions(Scene):
    def construct(self):
        points = [np.array([math.cos(t), math.sin(t), 0]) * 2 for t in np.linspace(0, TAU, 7)]
        polygon = Polygon(*points[:-1], color=TEAL)
        self.play(Create(polygon), run_time=1)
""",
    "BarChartScene": """
class BarChartScene(Scene):
    def construct(self):
        chart = BarChart(values=[3, 5, 2, 4], y_range=[0, 6, 2])
        self.play(Create(chart), run_time=1)
""",
    "ArrowsAndBraces": """
class ArrowsAndBraces(Scene):
    def construct(self):
        line = Line(LEFT * 2, RIGHT * 2)
        brace = Brace(line, DOWN)
        arrow = Arrow(UP * 2, UP * 0.2)
        self.play(Create(line), GrowFromCenter(brace), GrowArrow(arrow), run_time=1)
""",
    "Cube3D": """
class Cube3D(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES, theta=30 * DEGREES)
        cube = Cube(side_length=2, fill_opacity=0.7, fill_color=BLUE)
        self.play(Rotate(cube, angle=PI / 4, axis=UP), run_time=0.6)
""",
    "Axes3D": """
class Axes3D(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_range=[-2, 2], y_range=[-2, 2], z_range=[-1, 1])
        self.set_camera_orientation(phi=70 * DEGREES, theta=-45 * DEGREES)
        self.play(Create(axes), run_time=0.6)
""",
    "MovingCamera": """
class MovingCamera(MovingCameraScene):
    def construct(self):
        square = Square(color=PINK)
        self.add(square)
        self.play(self.camera.frame.animate.scale(0.5).move_to(square), run_time=1)
""",
    "TableScene": """
class TableScene(Scene):
    def construct(self):
        table = IntegerTable([[1, 2], [3, 4]]).scale(0.6)
        self.play(Create(table), run_time=1)
""",
    "HelperFunctions": """
def ring(radius, colour):
    return Annulus(inner_radius=radius * 0.6, outer_radius=radius, color=colour)


class HelperFunctions(Scene):
    def construct(self):
        rings = VGroup(*[ring(0.5 + i * 0.4, c) for i, c in enumerate([RED, GREEN, BLUE])])
        self.play(FadeIn(rings), run_time=0.5)
        self.wait(0.5)
""",
    "Waits": """
class Waits(Scene):
    def construct(self):
        self.add(Star(color=GOLD))
        self.wait(0.5)
        self.play(Indicate(Text("wait", font_size=30).to_edge(DOWN)), run_time=0.5)
""",
}

STATIC = """
class StaticOnly(Scene):
    def construct(self):
        self.add(Square(color=GREEN, fill_opacity=1), Text("still").to_edge(UP))
"""


def scene_file(*bodies: str) -> str:
    """One Python file holding the given scene classes."""
    return HEADER + "".join(bodies)


# Code that must be refused by the policy: (name, code, a word the message must contain).
HOSTILE_POLICY: list[tuple[str, str, str]] = [
    ("environ", "import os\nprint(os.environ)\n", "os"),
    ("getenv", "from os import getenv\nprint(getenv('AWS_SECRET_ACCESS_KEY'))\n", "os"),
    ("aws", "print(open('/root/.aws/credentials').read())\n", "open"),
    ("aws_home", "print(open('~/.aws/credentials').read())\n", "open"),
    ("passwd", "data = open('/etc/passwd').read()\n", "open"),
    ("parent", "open('../escape.txt', 'w').write('x')\n", "open"),
    ("dynamic_open", "name = 'x'\nopen(name, 'w')\n", "open"),
    ("socket", "import socket\nsocket.create_connection(('example.com', 80))\n", "socket"),
    ("urllib", "from urllib.request import urlopen\nurlopen('http://x')\n", "urllib"),
    ("subprocess", "import subprocess\nsubprocess.run(['ls'])\n", "subprocess"),
    ("fork", "import os\nwhile True:\n    os.fork()\n", "os"),
    ("multiprocessing", "import multiprocessing\n", "multiprocessing"),
    ("ctypes", "import ctypes\nctypes.CDLL(None)\n", "ctypes"),
    ("importlib", "import importlib\nimportlib.import_module('os')\n", "importlib"),
    ("dunder_import", "__import__('os').system('id')\n", "__import__"),
    ("eval", "eval('1 + 1')\n", "eval"),
    ("exec", "exec('x = 1')\n", "exec"),
    ("subclasses", "().__class__.__base__.__subclasses__()\n", "__subclasses__"),
    ("globals_walk", "def f():\n    pass\nf.__globals__['__builtins__']\n", "__globals__"),
    ("getattr_dunder", "getattr(print, '__self__')\n", "getattr"),
    ("numpy_file", "import numpy as np\nnp.loadtxt('/etc/passwd')\n", "loadtxt"),
    ("numpy_ctypes", "import numpy\nnumpy.ctypeslib.load_library('libc', '/lib')\n", "ctypeslib"),
    ("pathlib_write", "from pathlib import Path\nPath('out.txt').write_text('x')\n", "write_text"),
    ("shutil", "import shutil\nshutil.rmtree('/tmp')\n", "shutil"),
    ("sys_modules", "import sys\nsys.modules['os'].system('id')\n", "sys"),
    ("builtins", "import builtins\nbuiltins.open('/etc/passwd')\n", "builtins"),
]
