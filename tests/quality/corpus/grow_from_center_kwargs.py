from manim import *

class GrowFromCenterKwargs(Scene):
    def construct(self):
        square = Square()
        self.play(GrowFromCenter(square, scale_factor=2), run_time=0.3)
