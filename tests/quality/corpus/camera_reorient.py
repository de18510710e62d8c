from manim import *

class CameraReorient(Scene):
    def construct(self):
        frame = self.camera.frame
        frame.reorient(20, 70)
        self.add(ThreeDAxes(), Dot3D())
        self.wait(0.2)
