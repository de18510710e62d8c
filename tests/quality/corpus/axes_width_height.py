from manim import *

class AxesWidthHeight(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 4], y_range=[0, 2], width=6, height=3)
        line = NumberLine(x_range=[0, 4], width=6).next_to(axes, DOWN)
        self.play(Create(axes), Create(line), run_time=0.3)
