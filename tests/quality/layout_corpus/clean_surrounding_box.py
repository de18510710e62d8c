from manim import *


class CleanSurroundingBox(Scene):
    def construct(self):
        formula = MathTex(r"F = ma", font_size=64)
        box = SurroundingRectangle(formula, color=YELLOW)
        note = Text("Newton's second law", font_size=32).next_to(box, DOWN)
        self.play(Write(formula))
        self.play(Create(box), FadeIn(note))
        self.wait(0.3)
        self.play(FadeOut(formula, box, note))
