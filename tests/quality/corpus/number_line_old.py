from manim import *

class NumberLineOld(Scene):
    def construct(self):
        line = NumberLine(x_min=-3, x_max=3, tick_frequency=1, include_numbers=True,
                          numbers_to_show=[-2, 0, 2])
        self.play(Create(line), run_time=0.3)
