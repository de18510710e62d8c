from manim import *


class CleanZoomCamera(MovingCameraScene):
    def construct(self):
        dot = Dot()
        label = Text("zoomed", font_size=14).next_to(dot, UP, buff=0.1)
        self.add(dot)
        self.play(self.camera.frame.animate.set(width=4).move_to(dot), FadeIn(label))
        self.wait(0.3)
