from manim import *

class ColoursAndTexKeywords(Scene):
    def construct(self):
        eq = MathTex("a^2", "+", "b^2", isolate=["+"], t2c={"a": LIGHT_BLUE})
        word = Text("leaf", tex_to_color_map={"leaf": DARK_GREEN}).next_to(eq, DOWN)
        self.play(Write(eq), FadeIn(word), run_time=0.3)
