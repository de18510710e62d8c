from manim import *

class FadeInFromDownScene(Scene):
    def construct(self):
        dot = Dot(color=RED)
        self.play(FadeInFromDown(dot), run_time=0.3)
