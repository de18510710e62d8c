"""The layout check's geometry and flagging (services/renderer/layout.py), its parsing of
hostile records files, the renderer's LAYOUT_CHECK decision and the coder's repair report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.coder.authoring import layout_report
from services.renderer.layout import (
    MAX_RECORDS_BYTES,
    Context,
    beyond,
    find_problems,
    findings_of,
    intersection,
    overlap_share,
    parse_records,
    screen_font,
    spans_frame,
)
from services.renderer.layout_round import layout_action
from shared.events import JobContext, RenderError, SceneCoded, SceneFinding

FRAME = [-7.1111, -4.0, 7.1111, 4.0]


def item(name: str | None, box: list[float], *, text: bool = True, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": "Text" if text else "Square", "box": box, "text": text, **more}


def records(*screens: list[dict[str, Any]], frame: list[float] = FRAME) -> bytes:
    checkpoints = [
        {"i": i, "call": "play", "t": float(i), "frame": frame, "lines": [20 + i], "items": items}
        for i, items in enumerate(screens)
    ]
    return json.dumps({"version": 1, "checkpoints": checkpoints}).encode()


def kinds(data: bytes, *, last: bool = True, code_lines: int = 100) -> list[str]:
    parsed = parse_records(data)
    assert parsed is not None
    return [f.kind for f in find_problems(parsed, Context(code_lines=code_lines, last_scene=last))]


def test_box_geometry() -> None:
    assert intersection([0, 0, 2, 2], [1, 1, 3, 3]) == 1
    assert intersection([0, 0, 1, 1], [2, 2, 3, 3]) == 0
    assert overlap_share([0, 0, 2, 2], [1, 1, 2, 2]) == 1.0  # the small one is covered
    assert overlap_share([0, 0, 0, 0], [0, 0, 1, 1]) == 0.0  # a zero box overlaps nothing
    assert beyond([-1, -1, 1, 1], FRAME) == 0
    assert beyond([6, 0, 7.5, 1], FRAME) == pytest.approx(0.3889, abs=1e-3)
    assert spans_frame([-7.2, -1, 7.2, 1], FRAME) and not spans_frame([-3, -3, 3, 3], FRAME)


def test_screen_font_follows_the_camera_zoom() -> None:
    parsed = parse_records(records([item("a", [0, 0, 1, 1], font=14.0)], frame=[-2, -1, 2, 1]))
    assert parsed is not None
    assert screen_font(parsed.checkpoints[0].items[0], [-2, -1, 2, 1]) == 56.0
    assert kinds(records([item("a", [0, 0, 1, 1], font=14.0)], frame=[-2, -1, 2, 1])) == []


def test_each_kind_is_flagged_and_named_with_its_line() -> None:
    screen = [
        item("title", [-2, 3, 2, 3.5], lines=[5], font=40.0),
        item("eq", [-1, 3.1, 1, 3.6], lines=[6], font=48.0),
        item("tiny", [-1, -1, 0, -0.8], lines=[7], font=10.0),
        item("edge", [6.5, 0, 8.0, 0.5], lines=[8], font=48.0),
    ]
    data = records(screen)
    assert sorted(kinds(data, last=False)) == ["leftover", "off_frame", "overlap", "too_small"]
    parsed = parse_records(data)
    assert parsed is not None
    found = {f.kind: f for f in find_problems(parsed, Context(code_lines=100, last_scene=True))}
    assert found["overlap"].objects == ["title", "eq"] and found["overlap"].line == 5
    assert found["too_small"].objects == ["tiny"] and found["too_small"].line == 7
    assert found["off_frame"].objects == ["edge"] and "line 20" in found["off_frame"].message
    assert all(f.source == "layout" and f.animation == 0 for f in found.values())


def test_what_is_not_a_defect() -> None:
    plane = item("plane", [-7.2, -4.1, 7.2, 4.1], text=False)  # a background spans the frame
    touching = [item("a", [-2, 0, 0, 0.5], font=40.0), item("b", [0, 0, 2, 0.5], font=40.0)]
    slight = item("c", [-2, -3.5, 2, -3.0], font=40.0)
    assert kinds(records([plane, *touching, slight])) == []
    # A text that slides out after being seen is an exit, not a text off the frame.
    seen, gone = item("w", [-1, 0, 1, 0.5], font=40.0), item("w", [11, 0, 13, 0.5], font=40.0)
    assert kinds(records([seen], [gone])) == []
    assert kinds(records([gone])) == ["off_frame"]  # never seen at all
    # The last scene may end on its picture; a cleared screen is no leftover.
    assert kinds(records([seen]), last=True) == []
    assert kinds(records([seen], []), last=False) == []


def test_lines_of_appended_helpers_are_not_the_scenes() -> None:
    data = records([item("t", [-1, 0, 1, 0.3], lines=[90, 12], font=8.0)])
    parsed = parse_records(data)
    assert parsed is not None
    [finding] = find_problems(parsed, Context(code_lines=50))
    assert finding.line == 12


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"version": 2, "checkpoints": []}',
        records([item("x; import os", [0, 0, 1, 1])]),  # a name that is not an identifier
        records([item("x" * 500, [0, 0, 1, 1])]),
        records([item("x", [0, 0, 1])]),
        records([item("x", [0, 0, 1, 1e300])]),
        records([item("x", [0, 0, 1, 1], extra="field")]),
        records([item("x", [0, 0, 1, 1], lines=list(range(1, 100)))]),
        records(*[[]] * 400),
        records([item("x", [0, 0, 1, 1])] * 500),
        json.dumps({"version": 1, "checkpoints": [], "pad": "x" * MAX_RECORDS_BYTES}).encode(),
        b'{"version": 1, "checkpoints": [{"i": 0, "call": "play", "t": NaN}]}',
    ],
)
def test_hostile_records_are_ignored(data: bytes, tmp_path: Path) -> None:
    assert parse_records(data) is None
    (tmp_path / "layout.json").write_bytes(data)
    assert findings_of(tmp_path / "layout.json", Context(code_lines=10)) == []


def test_a_records_file_that_is_not_a_file_gives_no_findings(tmp_path: Path) -> None:
    assert findings_of(tmp_path / "missing.json", Context(code_lines=10)) == []
    (tmp_path / "dir.json").mkdir()
    assert findings_of(tmp_path / "dir.json", Context(code_lines=10)) == []


def test_findings_are_bounded() -> None:
    many = [item(f"t{i}", [0, 0, 1, 1], font=5.0) for i in range(80)]
    assert len(kinds(records(many))) == 12


def _coded(**fields: Any) -> SceneCoded:
    base: dict[str, Any] = {
        "job_id": "j",
        "user_id": "u",
        "context": JobContext(quality="low", scene_model="openai/x"),
        "scene_number": 1,
        "scene_count": 2,
        "attempt": 1,
        "class_name": "S",
        "code_ref": "c",
        "plan_ref": "p",
        "model": "openai/x",
    }
    return SceneCoded(**(base | fields))


def test_who_gets_a_repair_round() -> None:
    assert layout_action("repair", _coded()) == "repair"
    assert layout_action("repair", _coded(model="builtin")) == "warn"
    assert layout_action("repair", _coded(repairable=False)) == "warn"  # a client's own code
    assert layout_action("repair", _coded(layout_retry_of=1, attempt=2)) == "warn"  # one round
    assert layout_action("warn", _coded()) == "warn"
    assert layout_action("off", _coded()) == "off"


def test_the_repair_report_names_objects_kind_and_line() -> None:
    code = "from manim import *\nclass S(Scene):\n    def construct(self):\n        t = Text('x')\n"
    finding = SceneFinding(
        kind="overlap", objects=["t", "eq"], message="m" * 5000, line=4, source="layout"
    )
    error = RenderError(kind="layout", message="LayoutCheck", findings=[finding] * 40)
    report = layout_report(error, code)
    assert "- overlap: t, eq (line 4: t = Text('x'))" in report
    assert report.count("- overlap") == 12 and len(report) < 6000
    assert msgspec.json.decode(msgspec.json.encode(error), type=RenderError) == error
