from manim import *

class AxesOldRanges(Scene):
    def construct(self):
        axes = Axes(x_min=-3, x_max=3, y_min=0, y_max=9)
        graph = axes.get_graph(lambda x: x ** 2, x_min=-2, x_max=2)
        self.add(axes, graph)
        self.wait(0.2)
