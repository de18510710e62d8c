from manim import *

class TexMobjectScene(Scene):
    def construct(self):
        eq = TexMobject("a^2", "+", "b^2", "=", "c^2")
        self.play(FadeIn(eq), run_time=0.3)
