from manim import *

class FadeInFromLargeScene(Scene):
    def construct(self):
        circle = Circle()
        self.play(FadeInFromLarge(circle, scale_factor=3), run_time=0.3)
