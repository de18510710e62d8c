from manim import *

class FixInFrameScene(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES, theta=30 * DEGREES)
        title = Text("A cube", font_size=36).to_corner(UL)
        title.fix_in_frame()
        self.add(Cube(side_length=1), title)
        self.wait(0.2)
