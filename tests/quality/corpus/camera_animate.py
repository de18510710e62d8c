from manim import *

class CameraAnimate(ThreeDScene):
    def construct(self):
        self.add(ThreeDAxes())
        self.play(self.camera.animate.set_euler_angles(phi=60 * DEGREES), run_time=0.3)
