"""Slicing decisions and the boundary check, without Manim."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from services.gateway.eventlog import log_lines
from services.renderer.fastforward import TEX_CACHE_FILE, SliceReport, pack_tex, unpack_tex
from services.renderer.slicing import (
    balanced_ranges,
    decide,
    mismatch,
    open_ended,
    refusal,
    unsafe_constructs,
)
from shared.events import JobContext, SceneCoded, SceneRendered, SliceRequested
from shared.scene_report import scene_reports

SAFE = "from manim import *\nclass S(Scene):\n    def construct(self):\n        self.wait(1)\n"


def test_ranges_have_about_equal_video_time() -> None:
    durations = [1.0] * 12
    assert balanced_ranges(durations, 3) == [(0, 4), (4, 8), (8, 12)]
    assert balanced_ranges([5, 1, 1, 1, 1, 1], 2) == [(0, 1), (1, 6)]


def test_one_long_animation_is_never_split() -> None:
    assert balanced_ranges([30.0], 4) == [(0, 1)]
    assert len(balanced_ranges([1, 30, 1], 4)) <= 3


def test_every_animation_is_in_exactly_one_range() -> None:
    durations = [0.3, 2.0, 0.5, 0.5, 4.0, 1.0, 1.0, 0.2, 3.0]
    for slices in range(1, 10):
        ranges = balanced_ranges(durations, slices)
        covered = [i for start, end in ranges for i in range(start, end)]
        assert covered == list(range(len(durations)))
        assert len(ranges) <= slices


def test_short_scene_is_rendered_whole_with_the_reason() -> None:
    decision = decide([1.0] * 5, min_seconds=20, max_slices=4)
    assert not decision.sliced and "under 20 s" in decision.reason


def test_long_scene_is_sliced() -> None:
    decision = decide([2.0] * 20, min_seconds=20, max_slices=4)
    assert decision.sliced and len(decision.ranges) == 4
    assert refusal(SAFE, min_seconds=20, max_slices=4, renderer="cairo") is None


def test_unsafe_code_is_rendered_whole_and_named() -> None:
    code = SAFE + "        import time\n        x = time.time()\n"
    reason = refusal(code, min_seconds=20, max_slices=4, renderer="cairo")
    assert reason == "not reproducible: line 6: time() reads the clock"
    assert unsafe_constructs("open('f').read()") == ["line 1: open() reads files"]
    assert unsafe_constructs(SAFE) == []


def test_boundary_states_must_chain() -> None:
    ranges = open_ended([(0, 2), (2, 4)])
    assert ranges == ((0, 2), (2, None))
    first = SliceReport(hashes={0: "a", 2: "b"}, plays=2)
    second = SliceReport(hashes={2: "b", 5: "c"}, plays=5)  # the scene had one more
    assert mismatch(ranges, [first, second]) is None
    drifted = SliceReport(hashes={2: "X", 4: "c"}, plays=4)
    assert "differs between slices 0 and 1" in (mismatch(ranges, [first, drifted]) or "")
    short = SliceReport(hashes={0: "a", 1: "z"}, plays=1)
    assert "ended after 1" in (mismatch(ranges, [short, second]) or "")


def test_a_last_slice_that_never_reached_its_start_fails() -> None:
    """The dry pass counted more animations than the scene has: no silent short clip."""
    ranges = open_ended([(0, 3), (3, 6)])
    first = SliceReport(hashes={0: "a", 3: "b"}, plays=3)
    never = SliceReport(hashes={2: "end"}, plays=2)
    assert "differs between slices 0 and 1" in (mismatch(ranges, [first, never]) or "")


def test_slicing_off_or_opengl_is_refused() -> None:
    assert refusal(SAFE, min_seconds=0, max_slices=4, renderer="cairo") == "slicing is off"
    assert refusal(SAFE, min_seconds=20, max_slices=1, renderer="cairo") == "slicing is off"
    assert "opengl" in (refusal(SAFE, min_seconds=20, max_slices=4, renderer="opengl") or "")


def test_tex_cache_round_trip_takes_only_flat_svg_names(tmp_path: Path) -> None:
    media = tmp_path / "dry" / "media"
    (media / "Tex").mkdir(parents=True)
    (media / "Tex" / "ab12.svg").write_text("<svg/>")
    (media / "Tex" / "ab12.tex").write_text("not shipped")
    packed = pack_tex(media)
    assert packed is not None and pack_tex(tmp_path / "nothing") is None
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("ab12.svg", "<svg/>")
        archive.writestr("../escape.svg", "x")
        archive.writestr("sub/inner.svg", "x")
    for payload in (packed, evil.getvalue()):
        render = tmp_path / f"render-{len(payload)}"
        render.mkdir()
        (render / TEX_CACHE_FILE).write_bytes(payload)
        unpack_tex(render)
        assert sorted(p.name for p in (render / "media" / "Tex").iterdir()) == ["ab12.svg"]
    assert not (tmp_path / "escape.svg").exists()


def test_slices_show_in_the_job_log_and_the_scene_report() -> None:
    context = JobContext(quality="low", scene_model="builtin")
    request = SliceRequested(
        job_id="j",
        user_id="u",
        context=context,
        scene_number=1,
        scene_count=1,
        attempt=1,
        class_name="S",
        code_ref="c",
        slice_ref="r",
        slice_number=1,
        slice_count=2,
        start=5,
        end=None,
    )
    coded = SceneCoded(
        job_id="j",
        user_id="u",
        context=context,
        scene_number=1,
        scene_count=1,
        attempt=1,
        class_name="S",
        code_ref="c",
        plan_ref="p",
        model="m",
    )
    rendered = SceneRendered(
        job_id="j",
        user_id="u",
        context=context,
        scene_number=1,
        scene_count=1,
        attempt=1,
        clip_ref="x",
        duration_seconds=30,
        render_seconds=9,
        slices=2,
        slicing="2 slices of about 15.0 s",
    )
    lines = [line.message for line in log_lines([request, rendered])]
    assert lines == [
        "Scene 1: slice 2 of 2 (animations 5-end) requested",
        "Scene 1 rendered (30.0 s of video in 9.0 s, cairo, 2 slices)",
    ]
    attempt = scene_reports([coded, request, rendered])[0].attempts[0]
    assert (attempt.slices, attempt.slicing) == (2, "2 slices of about 15.0 s")
