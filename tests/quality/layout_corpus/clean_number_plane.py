from manim import *


class CleanNumberPlane(Scene):
    def construct(self):
        plane = NumberPlane()
        vector = Arrow(ORIGIN, [2, 1, 0], buff=0, color=YELLOW)
        label = MathTex(r"\vec v").next_to(vector.get_end(), UR, buff=0.1)
        self.play(Create(plane))
        self.play(GrowArrow(vector), Write(label))
        self.wait(0.5)
