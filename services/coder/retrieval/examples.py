"""Short, hand-written usage examples: how common things are done in Manim CE.

Each is (title, API names it shows, code). They teach idioms the API text alone does
not (which class draws an arrow between two points, how to plot a function), and they
are checked against the installed Manim by tests (every name must exist).
"""

from __future__ import annotations

EXAMPLES: list[tuple[str, list[str], str]] = [
    (
        "arrow between two points",
        ["Arrow"],
        "arrow = Arrow(start=LEFT * 2, end=RIGHT * 2, buff=0, color=YELLOW)\n"
        "self.play(GrowArrow(arrow))",
    ),
    (
        "line segment between two points",
        ["Line"],
        "line = Line(start=np.array([-2, 0, 0]), end=np.array([2, 1, 0]))\nself.play(Create(line))",
    ),
    (
        "dashed line",
        ["DashedLine"],
        "dashed = DashedLine(LEFT * 3, RIGHT * 3, dash_length=0.2)\nself.play(Create(dashed))",
    ),
    (
        "double headed arrow",
        ["DoubleArrow"],
        "span = DoubleArrow(LEFT * 2, RIGHT * 2, tip_length=0.2)\nself.add(span)",
    ),
    (
        "vector arrow from the origin",
        ["Vector"],
        "v = Vector([2, 1], color=BLUE)\nself.play(GrowArrow(v))",
    ),
    (
        "plot a function graph on axes such as sin x",
        ["Axes", "CoordinateSystem.plot"],
        "axes = Axes(x_range=[-PI, PI, 1], y_range=[-1.5, 1.5, 0.5], tips=False)\n"
        "graph = axes.plot(lambda x: np.sin(x), color=BLUE)\n"
        "self.play(Create(axes), Create(graph))",
    ),
    (
        "axis labels on axes",
        ["Axes.get_axis_labels"],
        "labels = axes.get_axis_labels(x_label='x', y_label='f(x)')\nself.add(labels)",
    ),
    (
        "label a plotted graph",
        ["CoordinateSystem.get_graph_label"],
        "label = axes.get_graph_label(graph, label='\\\\sin x', x_val=2)\nself.add(label)",
    ),
    (
        "shade the area under a curve",
        ["CoordinateSystem.get_area"],
        "area = axes.get_area(graph, x_range=[0, 2], color=BLUE, opacity=0.4)\n"
        "self.play(FadeIn(area))",
    ),
    (
        "riemann sum rectangles under a curve",
        ["CoordinateSystem.get_riemann_rectangles"],
        "rects = axes.get_riemann_rectangles(graph, x_range=[0, 2], dx=0.25)\n"
        "self.play(Create(rects))",
    ),
    (
        "number plane grid background",
        ["NumberPlane"],
        "plane = NumberPlane(x_range=[-7, 7, 1], y_range=[-4, 4, 1])\nself.add(plane)",
    ),
    (
        "number line with ticks and numbers",
        ["NumberLine"],
        "line = NumberLine(x_range=[-5, 5, 1], include_numbers=True)\nself.play(Create(line))",
    ),
    (
        "point on a graph moving with a value tracker",
        ["ValueTracker", "always_redraw"],
        "t = ValueTracker(0)\n"
        "dot = always_redraw(lambda: Dot(axes.c2p(t.get_value(), np.sin(t.get_value()))))\n"
        "self.add(dot)\nself.play(t.animate.set_value(3), run_time=3)",
    ),
    (
        "update an object every frame with an updater",
        ["Mobject.add_updater"],
        "label.add_updater(lambda m: m.next_to(dot, UP))\nself.play(dot.animate.shift(RIGHT))",
    ),
    (
        "number that changes while animating",
        ["DecimalNumber", "ValueTracker"],
        "t = ValueTracker(0)\nnumber = DecimalNumber(0, num_decimal_places=2)\n"
        "number.add_updater(lambda m: m.set_value(t.get_value()))\n"
        "self.add(number)\nself.play(t.animate.set_value(10))",
    ),
    ("write a matrix", ["Matrix"], "m = Matrix([[1, 2], [3, 4]])\nself.play(Write(m))"),
    (
        "matrix of decimals or integers",
        ["IntegerMatrix", "DecimalMatrix"],
        "m = DecimalMatrix([[1.5, 2.0], [0.25, 4.0]],\n"
        "                  element_to_mobject_config={'num_decimal_places': 2})",
    ),
    (
        "table of values",
        ["Table"],
        "table = Table([['1', '2'], ['3', '4']], col_labels=[Text('a'), Text('b')])\n"
        "self.play(Create(table))",
    ),
    (
        "latex formula equation",
        ["MathTex"],
        "eq = MathTex(r'a^2 + b^2 = c^2', font_size=64)\nself.play(Write(eq))",
    ),
    (
        "transform one equation into another",
        ["TransformMatchingTex", "MathTex"],
        "a = MathTex('x', '+', '1')\nb = MathTex('x', '=', '-1')\n"
        "self.play(TransformMatchingTex(a, b))",
    ),
    (
        "plain text title",
        ["Text"],
        "title = Text('Pythagoras', font_size=48).to_edge(UP)\nself.play(Write(title))",
    ),
    (
        "text with latex markup mixed",
        ["Tex"],
        "t = Tex(r'The area is $\\\\pi r^2$')\nself.play(Write(t))",
    ),
    (
        "bulleted list of points",
        ["BulletedList"],
        "items = BulletedList('First idea', 'Second idea', font_size=36)\nself.play(FadeIn(items))",
    ),
    (
        "code listing with syntax highlighting",
        ["Code"],
        "listing = Code(code_string='print(1)', language='python')\nself.add(listing)",
    ),
    (
        "draw a circle then fill it",
        ["Circle", "DrawBorderThenFill"],
        "c = Circle(radius=1.5, color=BLUE, fill_opacity=0.5)\nself.play(DrawBorderThenFill(c))",
    ),
    (
        "square and rectangle shapes",
        ["Square", "Rectangle"],
        "sq = Square(side_length=2)\nrect = Rectangle(width=4, height=2)\nself.add(sq, rect)",
    ),
    (
        "polygon and triangle from vertices",
        ["Polygon", "Triangle"],
        "tri = Polygon(ORIGIN, RIGHT * 3, UP * 2, color=GREEN)\nself.play(Create(tri))",
    ),
    (
        "regular polygon hexagon",
        ["RegularPolygon"],
        "hexagon = RegularPolygon(n=6)\nself.add(hexagon)",
    ),
    (
        "mark an angle between two lines",
        ["Angle", "RightAngle"],
        "a = Angle(Line(ORIGIN, RIGHT), Line(ORIGIN, UP), radius=0.5)\n"
        "r = RightAngle(Line(ORIGIN, RIGHT), Line(ORIGIN, UP), length=0.3)",
    ),
    (
        "arc and sector of a circle",
        ["Arc", "Sector"],
        "arc = Arc(radius=2, start_angle=0, angle=PI / 2)\nsector = Sector(radius=1, angle=PI / 3)",
    ),
    (
        "dot at a point with a label",
        ["Dot", "Mobject.next_to"],
        "dot = Dot(point=RIGHT, color=RED)\n"
        "label = Text('P').next_to(dot, UP)\nself.add(dot, label)",
    ),
    (
        "brace under an object with a label",
        ["Brace", "Brace.get_text"],
        "brace = Brace(square, direction=DOWN)\ntext = brace.get_text('side a')\n"
        "self.play(GrowFromCenter(brace), FadeIn(text))",
    ),
    (
        "highlight an object with a surrounding box",
        ["SurroundingRectangle", "Indicate"],
        "box = SurroundingRectangle(eq, color=YELLOW, buff=0.2)\n"
        "self.play(Create(box), Indicate(eq))",
    ),
    (
        "group objects and arrange them in a row",
        ["VGroup", "Mobject.arrange"],
        "row = VGroup(Circle(), Square(), Triangle()).arrange(RIGHT, buff=0.5)\nself.add(row)",
    ),
    (
        "arrange objects in a grid",
        ["Mobject.arrange_in_grid"],
        "cells = VGroup(*[Square(0.8) for _ in range(6)]).arrange_in_grid(rows=2, buff=0.2)",
    ),
    (
        "position an object at an edge or corner of the screen",
        ["Mobject.to_edge", "Mobject.to_corner"],
        "title.to_edge(UP)\nlogo.to_corner(DR)",
    ),
    (
        "move an object smoothly with animate",
        ["Mobject.animate", "Mobject.shift"],
        "self.play(square.animate.shift(RIGHT * 2).scale(0.5), run_time=1.5)",
    ),
    (
        "move an object along a path",
        ["MoveAlongPath"],
        "path = Circle(radius=2)\nself.play(MoveAlongPath(dot, path), run_time=3)",
    ),
    ("rotate an object", ["Rotate"], "self.play(Rotate(square, angle=PI / 2))"),
    (
        "fade objects in and out",
        ["FadeIn", "FadeOut"],
        "self.play(FadeIn(group, shift=UP))\nself.wait()\nself.play(FadeOut(group))",
    ),
    (
        "morph one shape into another",
        ["Transform", "ReplacementTransform"],
        "self.play(Transform(square, circle))\nself.play(ReplacementTransform(a, b))",
    ),
    (
        "animations one after another with a lag",
        ["LaggedStart", "AnimationGroup", "Succession"],
        "self.play(LaggedStart(*[FadeIn(m) for m in group], lag_ratio=0.3))",
    ),
    (
        "change color of an object",
        ["Mobject.set_color", "VMobject.set_fill"],
        "square.set_color(RED)\nsquare.set_fill(BLUE, opacity=0.5)",
    ),
    (
        "color gradient between colors",
        ["color_gradient", "interpolate_color"],
        "colors = color_gradient([BLUE, GREEN], 5)\nmid = interpolate_color(RED, YELLOW, 0.5)",
    ),
    (
        "graph of nodes and edges network",
        ["Graph"],
        "g = Graph([1, 2, 3], [(1, 2), (2, 3)], layout='circular', labels=True)\n"
        "self.play(Create(g))",
    ),
    (
        "bar chart of values",
        ["BarChart"],
        "chart = BarChart(values=[3, 5, 2], bar_names=['a', 'b', 'c'], y_range=[0, 6, 1])\n"
        "self.play(Create(chart))",
    ),
    (
        "parametric curve",
        ["ParametricFunction"],
        "curve = ParametricFunction(lambda t: np.array([np.cos(t), np.sin(2 * t), 0]),\n"
        "                           t_range=[0, TAU], color=YELLOW)",
    ),
    (
        "vector field arrows",
        ["ArrowVectorField"],
        "field = ArrowVectorField(lambda p: np.array([-p[1], p[0], 0]))\nself.add(field)",
    ),
    (
        "3d axes and surface in a three dimensional scene",
        ["ThreeDScene", "ThreeDAxes", "Surface"],
        "class S(ThreeDScene):\n    def construct(self):\n"
        "        self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)\n"
        "        self.add(ThreeDAxes())",
    ),
    (
        "zoom or move the camera",
        ["MovingCameraScene"],
        "class S(MovingCameraScene):\n    def construct(self):\n"
        "        self.play(self.camera.frame.animate.scale(0.5).move_to(dot))",
    ),
    (
        "trace the path of a moving point",
        ["TracedPath"],
        "trace = TracedPath(dot.get_center, stroke_color=YELLOW)\nself.add(trace)",
    ),
    (
        "draw a line from a point to an axis",
        ["CoordinateSystem.get_vertical_line", "CoordinateSystem.c2p"],
        "line = axes.get_vertical_line(axes.c2p(2, np.sin(2)), color=GREY)",
    ),
    (
        "tangent line to a graph at a point",
        ["TangentLine"],
        "tangent = TangentLine(graph, alpha=0.4, length=4, color=RED)",
    ),
    (
        "circumscribe or flash to draw attention",
        ["Circumscribe", "Flash"],
        "self.play(Circumscribe(eq))\nself.play(Flash(dot))",
    ),
    ("wait and pause between animations", ["Scene.wait"], "self.play(Write(title))\nself.wait(2)"),
    (
        "ellipse and annulus shapes",
        ["Ellipse", "Annulus"],
        "oval = Ellipse(width=4, height=2)\nring = Annulus(inner_radius=1, outer_radius=1.5)",
    ),
    (
        "curved arrow between points",
        ["CurvedArrow"],
        "bend = CurvedArrow(LEFT * 2, RIGHT * 2, angle=-PI / 2)",
    ),
    (
        "integer counter",
        ["Integer"],
        "count = Integer(0)\nself.play(ChangeDecimalToValue(count, 10))",
    ),
    (
        "create lines by writing strokes",
        ["Create", "Uncreate"],
        "self.play(Create(shape))\nself.play(Uncreate(shape))",
    ),
    # Idioms of manimgl and old Manim versions that LLMs still write, with today's names.
    (
        "ShowCreation is not defined: use Create",
        ["Create"],
        "self.play(Create(circle))  # not ShowCreation",
    ),
    (
        "TextMobject TexMobject are not defined: use Text Tex MathTex",
        ["Text", "Tex", "MathTex"],
        "label = Text('plain')  # not TextMobject\n"
        "formula = MathTex(r'e^{i\\pi}')  # not TexMobject",
    ),
    (
        "get_graph is not defined: use Axes plot",
        ["CoordinateSystem.plot"],
        "graph = axes.plot(lambda x: x**2)  # not axes.get_graph",
    ),
    (
        "camera frame in a Scene: use MovingCameraScene",
        ["MovingCameraScene"],
        "class S(MovingCameraScene):  # self.camera.frame exists only here\n"
        "    def construct(self):\n        self.play(self.camera.frame.animate.scale(0.5))",
    ),
    (
        "fix_in_frame is manimgl: use add_fixed_in_frame_mobjects",
        ["ThreeDScene.add_fixed_in_frame_mobjects"],
        "self.add_fixed_in_frame_mobjects(title)  # in a ThreeDScene",
    ),
]
