from manim import *

class BarChartMaxValue(Scene):
    def construct(self):
        chart = BarChart([1, 3, 2], max_value=4)
        self.play(Create(chart), run_time=0.3)
