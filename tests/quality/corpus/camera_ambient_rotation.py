from manim import *

class CameraAmbientRotation(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=70 * DEGREES)
        self.add(Cube(side_length=1))
        frame = self.camera.frame
        frame.add_updater(lambda m, dt: m.increment_theta(0.2 * dt))
        self.wait(0.3)
        frame.clear_updaters()
