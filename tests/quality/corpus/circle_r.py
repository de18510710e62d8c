from manim import *

class CircleR(Scene):
    def construct(self):
        self.play(Create(Circle(r=1.5)), run_time=0.3)
