from manim import *

class FadeInFromScene(Scene):
    def construct(self):
        square = Square()
        self.play(FadeInFrom(square, LEFT), run_time=0.3)
