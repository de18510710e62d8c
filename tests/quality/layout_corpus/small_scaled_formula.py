from manim import *


class SmallScaledFormula(Scene):
    def construct(self):
        formula = MathTex(r"\int_0^1 x^2\,dx = \frac{1}{3}").scale(0.25)
        self.play(Write(formula))
        self.wait(0.5)
