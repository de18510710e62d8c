from manim import *

class ParametricOldRange(Scene):
    def construct(self):
        curve = ParametricFunction(lambda t: np.array([np.cos(t), np.sin(t), 0]),
                                   t_min=0, t_max=TAU, color=TEAL)
        self.play(ShowCreation(curve), run_time=0.3)
