from manim import *


class LeftoverTitle(Scene):
    def construct(self):
        title = Text("Derivatives", font_size=56)
        self.play(Write(title))
        self.wait(0.5)
