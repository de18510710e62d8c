from manim import *


class LeftoverPartialFade(Scene):
    def construct(self):
        title = Text("Limits", font_size=48).to_edge(UP)
        graph = Axes(x_range=[-2, 2], y_range=[-1, 3], x_length=5, y_length=3)
        self.play(FadeIn(title), Create(graph))
        self.play(FadeOut(title))
        self.wait(0.3)
