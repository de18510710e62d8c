from manim import *

class PlayBoundMethod(Scene):
    def construct(self):
        dot = Dot()
        self.add(dot)
        self.play(dot.move_to, UP * 2, run_time=0.3)
