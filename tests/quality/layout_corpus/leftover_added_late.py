from manim import *


class LeftoverAddedLate(Scene):
    def construct(self):
        intro = Text("Sequences", font_size=48)
        self.play(FadeIn(intro))
        self.play(FadeOut(intro))
        dots = VGroup(*[Dot(RIGHT * i) for i in range(-2, 3)])
        self.add(dots)
        self.wait(0.5)
