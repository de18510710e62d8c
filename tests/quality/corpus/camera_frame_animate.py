from manim import *

class CameraFrameAnimate(ThreeDScene):
    def construct(self):
        self.add(Cube(side_length=1))
        self.play(self.camera.frame.animate.set_euler_angles(theta=45 * DEGREES, phi=60 * DEGREES),
                  run_time=0.3)
