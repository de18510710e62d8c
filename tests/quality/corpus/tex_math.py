from manim import *

class TexMath(Scene):
    def construct(self):
        eq = Tex("x^2 + y^2 = r^2")
        self.play(Write(eq), run_time=0.3)
