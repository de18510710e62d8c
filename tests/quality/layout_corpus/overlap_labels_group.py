from manim import *


class OverlapLabelsGroup(Scene):
    def construct(self):
        labels = VGroup(Text("first point", font_size=36), Text("second point", font_size=36))
        labels[1].move_to(labels[0].get_center() + RIGHT * 0.8)
        self.play(FadeIn(labels))
        self.wait(0.5)
