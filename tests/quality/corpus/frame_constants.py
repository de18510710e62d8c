from manim import *

class FrameConstants(Scene):
    def construct(self):
        band = Rectangle(width=FRAME_WIDTH, height=FRAME_Y_RADIUS, fill_opacity=0.5)
        self.play(FadeIn(band), run_time=0.3)
