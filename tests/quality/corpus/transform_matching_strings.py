from manim import *

class TransformMatchingStringsScene(Scene):
    def construct(self):
        a = Text("abc")
        b = Text("cab")
        self.add(a)
        self.play(TransformMatchingStrings(a, b), run_time=0.3)
