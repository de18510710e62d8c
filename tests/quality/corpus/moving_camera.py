from manim import *

class MovingCameraIdiom(Scene):
    def construct(self):
        dot = Dot(RIGHT * 2)
        self.add(Square(), dot)
        self.play(self.camera.frame.animate.scale(0.5).move_to(dot), run_time=0.3)
