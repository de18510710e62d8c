from manim import *

class CreationThenFadeOut(Scene):
    def construct(self):
        self.play(ShowCreationThenFadeOut(Triangle()), run_time=0.4)
