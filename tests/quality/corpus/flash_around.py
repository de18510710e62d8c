from manim import *

class FlashAroundScene(Scene):
    def construct(self):
        dot = Dot()
        self.add(dot)
        self.play(FlashAround(dot), run_time=0.3)
        self.play(CircleIndicate(dot), run_time=0.3)
