from manim import *


class OffFormulaBottom(Scene):
    def construct(self):
        header = Text("Energy", font_size=44).to_edge(UP)
        formula = MathTex(r"E = mc^2", font_size=60).to_edge(DOWN).shift(DOWN * 0.9)
        self.play(FadeIn(header))
        self.play(Write(formula))
        self.wait(0.5)
