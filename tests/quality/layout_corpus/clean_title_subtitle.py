from manim import *


class CleanTitleSubtitle(Scene):
    def construct(self):
        title = Text("Bayes' Theorem", font_size=56).to_edge(UP)
        subtitle = Text("updating beliefs with evidence", font_size=32).next_to(title, DOWN)
        self.play(Write(title))
        self.play(FadeIn(subtitle))
        self.wait(0.5)
