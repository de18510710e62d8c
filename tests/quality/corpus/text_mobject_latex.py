from manim import *

class TextMobjectLatex(Scene):
    def construct(self):
        label = TextMobject(r"Area $= \pi r^2$")
        self.add(label)
        self.wait(0.2)
