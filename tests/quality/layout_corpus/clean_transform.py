from manim import *


class CleanTransform(Scene):
    def construct(self):
        before = MathTex(r"(a+b)^2")
        after = MathTex(r"a^2 + 2ab + b^2")
        self.play(Write(before))
        self.play(Transform(before, after))
        self.wait(0.3)
        self.play(FadeOut(before))
