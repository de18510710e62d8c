from manim import *

class GetGraphScene(Scene):
    def construct(self):
        axes = Axes(x_range=[-3, 3], y_range=[0, 9])
        graph = axes.get_graph(lambda x: x ** 2, color=BLUE)
        self.play(Create(axes), Create(graph), run_time=0.3)
