from manim import *

class EmbedScene(Scene):
    def construct(self):
        self.play(Create(Square()), run_time=0.3)
        self.embed()
