from manim import *


class SmallCaption(Scene):
    def construct(self):
        circle = Circle(radius=1.5, color=YELLOW)
        caption = Text("the unit circle, radius one", font_size=12).next_to(circle, DOWN)
        self.play(Create(circle), FadeIn(caption))
        self.wait(0.5)
