"""Slices of a scene, fast-forwarded and joined, are the whole render frame for frame.

Every render here runs in the jail (the warm pool's cells, and once the CLI path). The
sliced video's decoded frames are hashed and compared with the whole render's, for ten
scenes whose state depends on their whole history (tests/slice_scenes.py).

This test can fail: run with Manim's own skip in the fast-forward (``skip_updaters=True``,
what ``manim -n`` does) it did, on 2026-12-06 — the traced path scene differed in 78 of
its 119 frames — and ``test_manim_skip_is_not_exact`` keeps that broken variant failing
the same comparison, and the boundary-state check catching it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import pytest

from services.renderer.combine import join_parts
from services.renderer.errors import RenderFailure
from services.renderer.fastforward import SliceReport, SliceSpec, pack_tex
from services.renderer.render import CliLauncher, Launcher, render_scene
from services.renderer.slicing import balanced_ranges, mismatch, open_ended
from services.renderer.warm import WarmPool
from tests.slice_scenes import SCENES, class_name, scene_code

SLICES = 3


def frame_hashes(clip: Path) -> list[str]:
    with av.open(str(clip)) as container:
        return [
            hashlib.sha256(frame.to_ndarray(format="rgb24").tobytes()).hexdigest()
            for frame in container.decode(video=0)
        ]


async def _render(
    name: str,
    folder: Path,
    launcher: Launcher,
    spec: SliceSpec | None = None,
    tex: bytes | None = None,
) -> tuple[Path, SliceReport | None]:
    clip = await render_scene(
        scene_code(name),
        class_name=class_name(name),
        quality="low",
        workdir=folder,
        timeout_seconds=300,
        launcher=launcher,
        slice_spec=spec,
        tex_cache=tex,
    )
    return clip.path, clip.report


async def _sliced(
    name: str, folder: Path, launcher: Launcher, *, skip_updaters: bool = False
) -> tuple[Path, str | None]:
    """The scene rendered in slices and joined; and what the boundary check says."""
    media, dry = await _render(name, folder / "dry", launcher, SliceSpec("dry"))
    assert dry is not None
    tex = pack_tex(media)  # the slices reuse the dry pass's LaTeX, as the service's do
    ranges = open_ended(balanced_ranges(dry.durations, SLICES))
    assert len(ranges) == SLICES, ranges
    clips, reports = [], []
    for number, (start, end) in enumerate(ranges):
        spec = SliceSpec("slice", start, end, skip_updaters=skip_updaters)
        clip, report = await _render(name, folder / f"slice{number}", launcher, spec, tex)
        assert report is not None
        clips.append(clip)
        reports.append(report)
    joined = join_parts(clips, folder / "joined.mp4")
    assert reports[-1].plays == dry.plays  # placeholder formulas (dry_tex.py) count the same
    return joined.path, mismatch(ranges, reports)


@pytest.mark.parametrize("name", sorted(SCENES))
async def test_sliced_render_equals_whole_render(name: str, pool: WarmPool, tmp_path: Path) -> None:
    whole, _ = await _render(name, tmp_path / "whole", pool)
    joined, problem = await _sliced(name, tmp_path, pool)
    assert problem is None
    expected = frame_hashes(whole)
    assert len(expected) >= 30
    assert frame_hashes(joined) == expected


async def test_cli_path_slices_exactly(tmp_path: Path) -> None:
    """Without the warm pool a slice runs the same render function in a one-off jail."""
    cli = CliLauncher()
    whole, _ = await _render("traced_path", tmp_path / "whole", cli)
    joined, problem = await _sliced("traced_path", tmp_path, cli)
    assert problem is None
    assert frame_hashes(joined) == frame_hashes(whole)


@pytest.mark.parametrize("name", ["traced_path", "updater_dt", "wait_until"])
async def test_manim_skip_is_not_exact(name: str, pool: WarmPool, tmp_path: Path) -> None:
    """Manim's skip (one step of dt = run_time per skipped animation) changes the frames,
    and the boundary-state check notices before anyone would join such slices."""
    whole, _ = await _render(name, tmp_path / "whole", pool)
    joined, problem = await _sliced(name, tmp_path, pool, skip_updaters=True)
    assert problem is not None and "differs" in problem
    assert frame_hashes(joined) != frame_hashes(whole)


async def test_dry_pass_compiles_every_formula_as_the_whole_render_does(
    pool: WarmPool, tmp_path: Path
) -> None:
    """Placeholders stand in while the LaTeX compiles on other cores (dry_tex.py); by the
    dry pass's end every real SVG is there, byte for byte what the whole render made."""
    await _render("mathtex", tmp_path / "whole", pool)
    media, dry = await _render("mathtex", tmp_path / "dry", pool, SliceSpec("dry"))
    assert dry is not None and dry.plays >= 4
    whole_svgs = {p.name: p.read_bytes() for p in (tmp_path / "whole/media/Tex").glob("*.svg")}
    dry_svgs = {p.name: p.read_bytes() for p in (media / "Tex").glob("*.svg")}
    assert len(whole_svgs) >= 3
    assert dry_svgs == whole_svgs


async def test_a_formula_that_does_not_compile_fails_the_dry_pass(
    pool: WarmPool, tmp_path: Path
) -> None:
    """The placeholder hid it while the scene ran; the compile's error still ends the pass
    (the service then renders the scene whole, which reports it at the formula's line)."""
    code = scene_code("mathtex").replace('MathTex("c^2")', r'MathTex(r"\frac{c^2")')
    with pytest.raises(RenderFailure) as failed:
        await render_scene(
            code,
            class_name=class_name("mathtex"),
            quality="low",
            workdir=tmp_path / "dry",
            timeout_seconds=300,
            launcher=pool,
            slice_spec=SliceSpec("dry"),
        )
    assert failed.value.kind == "crash"
    assert "latex error" in failed.value.message
