from manim import *


class SmallAxisNote(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 4], y_range=[0, 4], x_length=6, y_length=4)
        note = Text("y grows", font_size=9).next_to(axes, UP)
        self.play(Create(axes))
        self.play(FadeIn(note))
        self.wait(0.5)
