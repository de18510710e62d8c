from manim import *

class WiggleOutThenInScene(Scene):
    def construct(self):
        word = Text("Look")
        self.add(word)
        self.play(WiggleOutThenIn(word), run_time=0.3)
