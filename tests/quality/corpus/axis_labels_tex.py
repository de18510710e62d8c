from manim import *

class AxisLabelsTex(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 3], y_range=[0, 3])
        labels = axes.get_axis_labels(x_label_tex="t", y_label_tex="v")
        self.add(axes, labels)
        self.wait(0.2)
