from manim import *


class CleanShapesRow(Scene):
    def construct(self):
        shapes = VGroup(Circle(), Square(), Triangle()).arrange(RIGHT, buff=1)
        names = VGroup(*[
            Text(n, font_size=30).next_to(s, DOWN) for n, s in zip(["circle", "square", "triangle"], shapes)
        ])
        self.play(Create(shapes))
        self.play(FadeIn(names))
        self.wait(0.5)
