from manim import *

class ManimglSelfFrame(Scene):
    def construct(self):
        dot = Dot(LEFT * 2)
        self.add(dot)
        self.play(self.frame.animate.move_to(dot), run_time=0.3)
