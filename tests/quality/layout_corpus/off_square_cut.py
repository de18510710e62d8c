from manim import *


class OffSquareCut(Scene):
    def construct(self):
        square = Square(side_length=3, color=BLUE).move_to(LEFT * 6.5)
        label = Text("a square", font_size=36).shift(RIGHT * 2)
        self.play(Create(square), FadeIn(label))
        self.wait(0.5)
