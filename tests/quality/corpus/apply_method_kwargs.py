from manim import *

class ApplyMethodKwargs(Scene):
    def construct(self):
        square = Square()
        self.add(square)
        self.play(ApplyMethod(square.set_color, RED, run_time=0.3))
