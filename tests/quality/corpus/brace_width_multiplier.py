from manim import *

class BraceWidthMultiplier(Scene):
    def construct(self):
        line = Line(LEFT, RIGHT)
        brace = Brace(line, DOWN, width_multiplier=2)
        self.add(line, brace)
        self.wait(0.2)
