from manim import *

class CameraFrameZoom3D(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES)
        cube = Cube(side_length=1)
        self.add(cube)
        self.play(self.camera.frame.animate.scale(0.5), run_time=0.3)
        self.camera.frame.move_to(cube)
        self.wait(0.2)
