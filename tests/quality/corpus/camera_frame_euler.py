from manim import *

class CameraFrameEuler(ThreeDScene):
    def construct(self):
        frame = self.camera.frame
        frame.set_euler_angles(theta=-30 * DEGREES, phi=70 * DEGREES)
        self.add(ThreeDAxes())
        self.wait(0.2)
