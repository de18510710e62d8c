from manim import *


class OverlapTitleFormula(Scene):
    def construct(self):
        title = Text("Pythagoras", font_size=48).to_edge(UP)
        formula = MathTex(r"a^2 + b^2 = c^2", font_size=56).move_to(title.get_center() + DOWN * 0.2)
        self.play(Write(title))
        self.play(Write(formula))
        self.wait(0.5)
