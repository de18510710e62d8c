from manim import *

class SurfaceOld(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=60 * DEGREES)
        surface = ParametricSurface(lambda u, v: np.array([u, v, u * v]),
                                    u_min=-1, u_max=1, v_min=-1, v_max=1, resolution=(4, 4))
        self.add(surface)
        self.wait(0.2)
