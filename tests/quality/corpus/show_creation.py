from manim import *

class ShowCreationScene(Scene):
    def construct(self):
        self.play(ShowCreation(Circle(color=BLUE)), run_time=0.3)
