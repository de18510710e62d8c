from manim import *

class CameraDistance(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES, theta=45 * DEGREES, distance=8)
        self.add(Cube(side_length=1))
        self.wait(0.2)
