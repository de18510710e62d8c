from manim import *


class CleanSlideOut(Scene):
    def construct(self):
        word = Text("Goodbye", font_size=48)
        self.play(FadeIn(word))
        self.play(word.animate.shift(RIGHT * 12))
        self.remove(word)
        self.wait(0.3)
