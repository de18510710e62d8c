from manim import *

class SectorOuterRadius(Scene):
    def construct(self):
        wedge = Sector(outer_radius=2, angle=PI / 3, color=ORANGE, fill_opacity=0.8)
        self.play(FadeIn(wedge), run_time=0.3)
