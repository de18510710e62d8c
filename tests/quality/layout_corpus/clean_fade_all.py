from manim import *


class CleanFadeAll(Scene):
    def construct(self):
        title = Text("Summary", font_size=48).to_edge(UP)
        body = Text("three things to remember", font_size=32)
        self.play(FadeIn(title), FadeIn(body))
        self.wait(0.3)
        self.play(*[FadeOut(m) for m in self.mobjects])
