from manim import *

class TexTextScene(Scene):
    def construct(self):
        words = TexText("Pythagoras")
        self.add(words)
        self.wait(0.2)
