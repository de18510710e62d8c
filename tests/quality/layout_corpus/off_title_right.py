from manim import *


class OffTitleRight(Scene):
    def construct(self):
        title = Text("A title that is placed far too far right", font_size=40).shift(RIGHT * 5)
        self.play(Write(title))
        self.wait(0.5)
