from manim import *


class CleanAxesPlot(Scene):
    def construct(self):
        axes = Axes(x_range=[-3, 3], y_range=[-1, 9], x_length=7, y_length=5).shift(DOWN * 0.5)
        curve = axes.plot(lambda x: x**2, color=BLUE)
        label = MathTex("y = x^2").next_to(axes, UP, buff=0.2)
        self.play(Create(axes), Create(curve))
        self.play(Write(label))
        self.wait(0.5)
