from manim import *


class CleanFormulaSteps(Scene):
    def construct(self):
        lines = VGroup(
            MathTex(r"2x + 3 = 7"), MathTex(r"2x = 4"), MathTex(r"x = 2")
        ).arrange(DOWN, buff=0.5)
        for line in lines:
            self.play(Write(line), run_time=0.5)
        self.wait(0.3)
        self.play(FadeOut(lines))
