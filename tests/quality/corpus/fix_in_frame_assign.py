from manim import *

class FixInFrameAssign(Scene):
    def construct(self):
        label = Text("Fixed").to_edge(UP).fix_in_frame()
        self.play(Write(label), run_time=0.3)
