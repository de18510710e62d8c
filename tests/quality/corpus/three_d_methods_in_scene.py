from manim import *

class ThreeDMethodsInScene(Scene):
    def construct(self):
        self.set_camera_orientation(phi=65 * DEGREES, theta=30 * DEGREES)
        self.add(ThreeDAxes(), Cube(side_length=1))
        self.wait(0.2)
