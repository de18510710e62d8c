from manim import *

class TextSize(Scene):
    def construct(self):
        big = Text("Big", size=1.5)
        formula = MathTex("x", size=36).next_to(big, DOWN)
        self.add(big, formula)
        self.wait(0.2)
