from manim import *

class ApplyMethodScene(Scene):
    def construct(self):
        dot = Dot()
        self.add(dot)
        self.play(ApplyMethod(dot.shift, RIGHT * 2), run_time=0.3)
