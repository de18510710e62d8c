from manim import *


class CleanBullets(Scene):
    def construct(self):
        heading = Text("Why it works", font_size=44).to_edge(UP)
        points = VGroup(
            Text("each step is reversible", font_size=30),
            Text("nothing is lost", font_size=30),
            Text("so the answer is unique", font_size=30),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.4).next_to(heading, DOWN, buff=0.6)
        self.play(FadeIn(heading))
        for point in points:
            self.play(FadeIn(point), run_time=0.4)
        self.wait(0.3)
