from manim import *

class FadePositionalDirection(Scene):
    def construct(self):
        square = Square()
        self.play(FadeIn(square, UP), run_time=0.3)
        self.play(FadeOut(square, 2 * RIGHT), run_time=0.3)
