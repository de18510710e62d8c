from manim import *

class ConfigBackground(Scene):
    CONFIG = {"camera_config": {"background_color": WHITE}}

    def construct(self):
        self.play(Create(Square(color=BLACK)), run_time=0.3)
