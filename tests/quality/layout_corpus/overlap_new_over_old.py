from manim import *


class OverlapNewOverOld(Scene):
    def construct(self):
        step1 = Text("Step 1: add both sides", font_size=40)
        self.play(Write(step1))
        step2 = Text("Step 2: divide by two", font_size=40).shift(DOWN * 0.1)
        self.play(Write(step2))
        self.wait(0.5)
