"""Cairo vs OpenGL, side by side in one run: `python -m bench opengl`.

Issue 13 item 4 asks whether Manim's OpenGL renderer (headless EGL, Mesa's llvmpipe on
this CPU-only machine) renders the slow 3D scenes faster than Cairo, and whether its
frames show the same thing. Each scene is rendered by both renderers in the jailed warm
pool, alternating, `REPEATS[quality]` times (medians: the machine is shared, so single
timings are noisy; medium is slow enough to be measured once). The last pair of clips of
each scene is then decoded and compared frame by frame: mean absolute difference of RGB
pixels (0-255) and SSIM of the luma (1.0: identical). The decision this informs is
written up in services/renderer/README.md.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
from scipy.ndimage import uniform_filter

from services.renderer.render import render_scene
from services.renderer.warm import WarmPool

REPEATS = {"low": 3, "medium": 1}
RENDERERS = ("cairo", "opengl")

# Three 3D scenes of the kinds LLM-written scenes use (a lit surface, solids with a
# label fixed in frame, a camera moving over axes and curves) and one 2D reference.
SCENES: dict[str, str] = {
    "surface_3d": """
class Bench(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_range=[-3, 3], y_range=[-3, 3], z_range=[-2, 2])
        surface = Surface(
            lambda u, v: axes.c2p(u, v, np.sin(u) * np.cos(v)),
            u_range=[-3, 3], v_range=[-3, 3], resolution=(24, 24),
            fill_opacity=0.9, checkerboard_colors=[BLUE_D, BLUE_E],
        )
        self.set_camera_orientation(phi=70 * DEGREES, theta=-45 * DEGREES)
        self.play(Create(axes), run_time=1)
        self.play(Create(surface), run_time=2)
        self.move_camera(phi=50 * DEGREES, theta=30 * DEGREES, run_time=3)
        self.begin_ambient_camera_rotation(rate=0.4)
        self.wait(4)
""",
    "solids_3d": """
class Bench(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=65 * DEGREES, theta=30 * DEGREES)
        title = Text("Solids", font_size=40).to_corner(UL)
        self.add_fixed_in_frame_mobjects(title)
        sphere = Sphere(radius=1, resolution=(20, 20)).shift(LEFT * 2.5).set_color(RED)
        cube = Cube(side_length=1.5, fill_color=GREEN, fill_opacity=0.8)
        torus = Torus(major_radius=1, minor_radius=0.35, resolution=(20, 20)).shift(RIGHT * 2.5)
        self.play(FadeIn(sphere), FadeIn(cube), FadeIn(torus), run_time=2)
        self.play(Rotate(cube, angle=PI, axis=UP), run_time=2)
        self.move_camera(phi=30 * DEGREES, theta=-60 * DEGREES, run_time=3)
        self.play(torus.animate.shift(UP * 1.5), sphere.animate.scale(0.6), run_time=2)
        self.wait(1)
""",
    "curves_3d": """
class Bench(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes()
        helix = ParametricFunction(
            lambda t: np.array([np.cos(t), np.sin(t), t / 6]), t_range=[-6, 6], color=YELLOW
        )
        arrow = Arrow3D(ORIGIN, [2, 1, 1], color=RED)
        self.set_camera_orientation(phi=75 * DEGREES, theta=-60 * DEGREES)
        self.play(Create(axes), run_time=1)
        self.play(Create(helix), GrowFromPoint(arrow, ORIGIN), run_time=3)
        self.move_camera(phi=45 * DEGREES, theta=45 * DEGREES, zoom=1.3, run_time=4)
        self.wait(2)
""",
    "plot_2d": """
class Bench(Scene):
    def construct(self):
        ax = Axes(x_range=[-3, 3], y_range=[-1, 9])
        graph = ax.plot(lambda x: x * x, color=YELLOW)
        label = Text("y = x squared", font_size=36).to_corner(UR)
        self.play(Create(ax), run_time=2)
        self.play(Create(graph), Write(label), run_time=3)
        dot = Dot(ax.c2p(-3, 9), color=RED)
        self.play(MoveAlongPath(dot, graph), run_time=3)
        self.wait(1)
""",
}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videogen-bench-opengl-") as folder:
        return asyncio.run(_compare(Path(folder)))


async def _compare(root: Path) -> dict[str, Any]:
    pool = WarmPool()
    await pool.start()
    results: dict[str, Any] = {"repeats": REPEATS}
    try:
        for quality in REPEATS:
            results[quality] = {
                name: await _scene(pool, root / quality / name, body, quality)
                for name, body in SCENES.items()
            }
    finally:
        await pool.close()
    return results


async def _scene(pool: WarmPool, root: Path, body: str, quality: str) -> dict[str, Any]:
    """Both renderers on one scene: median wall times, speed-up, frame differences."""
    code = f"from manim import *\n\n{body}"
    times: dict[str, list[float]] = {renderer: [] for renderer in RENDERERS}
    clips: dict[str, Path] = {}
    for repeat in range(REPEATS[quality]):
        for renderer in RENDERERS:
            begin = time.perf_counter()
            clip = await render_scene(
                code,
                class_name="Bench",
                quality=quality,
                workdir=root / f"{renderer}-{repeat}",
                timeout_seconds=1800,
                renderer=renderer,
                launcher=pool,
                check_policy=False,
            )
            times[renderer].append(time.perf_counter() - begin)
            print(f"{root.name} {quality} {renderer}: {times[renderer][-1]:.1f} s", file=sys.stderr)
            clips[renderer] = clip.path
    medians = {renderer: statistics.median(values) for renderer, values in times.items()}
    return {
        "video_seconds": clip.duration_seconds,
        **{f"{r}_seconds": [round(t, 2) for t in times[r]] for r in RENDERERS},
        **{f"{r}_median_seconds": round(medians[r], 2) for r in RENDERERS},
        "opengl_speedup": round(medians["cairo"] / medians["opengl"], 2),
        "frames": frame_differences(clips["cairo"], clips["opengl"]),
    }


def frame_differences(first: Path, second: Path) -> dict[str, Any]:
    """How far two renders of one scene are apart, frame by frame (decoded with PyAV)."""
    mad: list[float] = []
    ssim: list[float] = []
    with av.open(str(first)) as a, av.open(str(second)) as b:
        for frame_a, frame_b in zip(a.decode(video=0), b.decode(video=0), strict=False):
            x = frame_a.to_ndarray(format="rgb24").astype(np.float64)
            y = frame_b.to_ndarray(format="rgb24").astype(np.float64)
            mad.append(float(np.abs(x - y).mean()))
            ssim.append(_ssim(_luma(x), _luma(y)))
    return {
        "frames_compared": len(mad),
        "mean_abs_diff_median": round(statistics.median(mad), 2),
        "mean_abs_diff_max": round(max(mad), 2),
        "ssim_median": round(statistics.median(ssim), 4),
        "ssim_min": round(min(ssim), 4),
    }


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


def _ssim(x: np.ndarray, y: np.ndarray, window: int = 7) -> float:
    """Mean structural similarity of two grey images (Wang et al. 2004, box window)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mean_x, mean_y = uniform_filter(x, window), uniform_filter(y, window)
    var_x = uniform_filter(x * x, window) - mean_x**2
    var_y = uniform_filter(y * y, window) - mean_y**2
    covariance = uniform_filter(x * y, window) - mean_x * mean_y
    numerator = (2 * mean_x * mean_y + c1) * (2 * covariance + c2)
    denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    return float((numerator / denominator).mean())
