from manim import *

class FadeOutAndShiftScene(Scene):
    def construct(self):
        square = Square()
        self.add(square)
        self.play(FadeOutAndShift(square, DOWN), run_time=0.3)
