from manim import *

class ConfigDictScene(Scene):
    CONFIG = {
        "radius": 1.5,
        "circle_color": TEAL,
    }

    def construct(self):
        circle = Circle(radius=self.radius, color=self.circle_color)
        self.play(Create(circle), run_time=0.3)
