from manim import *

class TextMobjectScene(Scene):
    def construct(self):
        title = TextMobject("Hello", color=YELLOW)
        self.play(Write(title), run_time=0.3)
