from manim import *

class CreationThenDestruction(Scene):
    def construct(self):
        self.play(ShowCreationThenDestruction(Square(color=GREEN)), run_time=0.4)
