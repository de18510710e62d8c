from manim import *

class FixInFrameAdd(ThreeDScene):
    def construct(self):
        self.add(Text("Title").to_edge(UP).fix_in_frame())
        self.add(Sphere(radius=0.5, resolution=(6, 6)))
        self.wait(0.2)
