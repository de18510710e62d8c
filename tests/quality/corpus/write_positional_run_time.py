from manim import *

class WritePositionalRunTime(Scene):
    def construct(self):
        words = Text("Slow")
        self.play(Write(words, 0.4))
