from manim import *


class CleanReplacement(Scene):
    def construct(self):
        first = Text("First idea", font_size=44)
        second = Text("Second idea", font_size=44)
        self.play(FadeIn(first))
        self.play(ReplacementTransform(first, second))
        self.wait(0.3)
        self.play(FadeOut(second))
