"""The layout check: what is wrong on screen, judged from the boxes a render recorded.

The render's hook (:mod:`services.renderer.layout_hook`) writes raw records — each
visible object's box, class, variable name and creating line at the end of every
``play``/``wait`` — into its folder. That file is the scene's output, so it is read as
an attacker's: at most ``MAX_RECORDS_BYTES``, decoded by a strict msgspec schema (names
must be identifiers, numbers finite and bounded, lists short), and anything else is
ignored with a log line. The findings are computed here, never taken from the render.

What is flagged (``SceneFinding.kind``, ``source="layout"``):

- ``off_frame``: a text or formula reaching more than ``OFF_FRAME_TOLERANCE`` units past
  the edge of the frame, or never inside it; any other object cut by the edge (partly
  inside, partly beyond the tolerance), unless it spans the whole frame (a background
  plane or rectangle does, on purpose).
- ``overlap``: two texts/formulas whose boxes share at least ``OVERLAP_SHARE`` of the
  smaller box.
- ``too_small``: a text/formula whose font size on screen (scaled by the camera's zoom)
  is below ``MIN_FONT_SIZE`` (Manim's default is 48; 18 is about 14 px tall at 480p).
- ``leftover``: in a job with more scenes after this one, content still visible when the
  scene ends; the next scene starts on an empty frame, so it would vanish at the cut
  instead of being faded out. The last scene of a job may end on its final picture.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from services.renderer.layout_hook import (
    MAX_CHECKPOINTS,
    MAX_FONT,
    MAX_ITEMS,
    MAX_LINES,
    MAX_NAME,
    NAME_PATTERN,
    RECORDS_VERSION,
)
from shared.events import SceneFinding

log = logging.getLogger("videogen.renderer.layout")

MAX_RECORDS_BYTES = 4 * 2**20
MAX_FINDINGS = 12
OFF_FRAME_TOLERANCE = 0.1  # scene units (the frame is 14.2 x 8)
OVERLAP_SHARE = 0.2
MIN_FONT_SIZE = 18.0
DEFAULT_FRAME_HEIGHT = 8.0
_LEFTOVER_NAMES = 6

Coordinate = Annotated[float, Meta(ge=-1e6, le=1e6)]
Box = Annotated[list[Coordinate], Meta(min_length=4, max_length=4)]
Line = Annotated[int, Meta(ge=1, le=1_000_000)]
Lines = Annotated[list[Line], Meta(max_length=MAX_LINES)]
Name = Annotated[str, Meta(max_length=MAX_NAME, pattern=NAME_PATTERN)]


class Item(msgspec.Struct, forbid_unknown_fields=True):
    """One visible object at one checkpoint, as the hook saw it."""

    type: Name
    box: Box
    name: Name | None = None
    lines: Lines = []
    text: bool = False
    font: Annotated[float, Meta(ge=0, le=MAX_FONT)] | None = None


class Checkpoint(msgspec.Struct, forbid_unknown_fields=True):
    """The screen at the end of one play/wait (or of the scene: ``call="end"``)."""

    i: Annotated[int, Meta(ge=0, le=MAX_CHECKPOINTS)]
    call: Literal["play", "wait", "end"]
    t: Annotated[float, Meta(ge=0, le=1e6)]
    frame: Box
    lines: Lines = []
    items: Annotated[list[Item], Meta(max_length=MAX_ITEMS)] = []


class Records(msgspec.Struct, forbid_unknown_fields=True):
    version: Literal[1]
    checkpoints: Annotated[list[Checkpoint], Meta(max_length=MAX_CHECKPOINTS + 1)]
    truncated: bool = False
    hook_seconds: Annotated[float, Meta(ge=0, le=1e6)] = 0.0  # what the hook cost the render


assert RECORDS_VERSION == 1  # the schema above is version 1's
_decoder = msgspec.json.Decoder(Records)


def parse_records(data: bytes) -> Records | None:
    """The records in ``data``, or None when they are too large or not well-formed."""
    if len(data) > MAX_RECORDS_BYTES:
        log.warning("layout records ignored: %d bytes (limit %d)", len(data), MAX_RECORDS_BYTES)
        return None
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("layout records ignored: %s", str(exc)[:200])
        return None


def read_records(path: Path) -> Records | None:
    """Parse a render's records file (None when it is missing, too large or malformed)."""
    try:
        with path.open("rb") as source:
            data = source.read(MAX_RECORDS_BYTES + 1)
    except OSError:
        return None
    return parse_records(data)


# --- geometry ------------------------------------------------------------------------------


def area(box: list[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: list[float], b: list[float]) -> float:
    """Area shared by two boxes (x0, y0, x1, y1)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def overlap_share(a: list[float], b: list[float]) -> float:
    """The share of the smaller box that the other covers (0 … 1)."""
    smaller = min(area(a), area(b))
    return intersection(a, b) / smaller if smaller > 1e-9 else 0.0


def beyond(box: list[float], frame: list[float]) -> float:
    """How far ``box`` reaches past ``frame`` on its worst side (0 when inside)."""
    return max(0.0, frame[0] - box[0], frame[1] - box[1], box[2] - frame[2], box[3] - frame[3])


def inside_at_all(box: list[float], frame: list[float]) -> bool:
    return box[0] < frame[2] and box[2] > frame[0] and box[1] < frame[3] and box[3] > frame[1]


def spans_frame(box: list[float], frame: list[float]) -> bool:
    """A background: as wide or as tall as the whole frame."""
    return (box[2] - box[0]) >= (frame[2] - frame[0]) - 1e-3 or (box[3] - box[1]) >= (
        frame[3] - frame[1]
    ) - 1e-3


def screen_font(item: Item, frame: list[float]) -> float | None:
    """The font size as it looks on screen: a zoomed-in camera makes text bigger."""
    height = frame[3] - frame[1]
    if item.font is None or height <= 1e-6:
        return None
    return item.font * DEFAULT_FRAME_HEIGHT / height


# --- flagging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the check knows beyond the records: the code's length and the scene's place."""

    code_lines: int  # lines of the scene's own code (helpers appended after are not its)
    last_scene: bool = True


def find_problems(records: Records, context: Context) -> list[SceneFinding]:
    """Every distinct layout problem in ``records``, first occurrence first (bounded)."""
    found: dict[tuple[str, tuple[str, ...]], SceneFinding] = {}
    checkpoints = [c for c in records.checkpoints if _frame_ok(c.frame)]
    ever_inside = _ever_inside(checkpoints)
    for checkpoint in checkpoints:
        for finding in _at(checkpoint, context, ever_inside):
            found.setdefault((finding.kind, tuple(finding.objects)), finding)
    if not context.last_scene and checkpoints:
        leftover = _leftover(checkpoints[-1], context)
        if leftover is not None:
            found.setdefault((leftover.kind, ()), leftover)
    return list(found.values())[:MAX_FINDINGS]


def _frame_ok(frame: list[float]) -> bool:
    return frame[2] - frame[0] > 1e-3 and frame[3] - frame[1] > 1e-3


def _ever_inside(checkpoints: Iterable[Checkpoint]) -> set[str]:
    return {
        _label(item, Context(code_lines=0))
        for checkpoint in checkpoints
        for item in checkpoint.items
        if inside_at_all(item.box, checkpoint.frame)
    }


def _at(checkpoint: Checkpoint, context: Context, ever_inside: set[str]) -> list[SceneFinding]:
    frame = checkpoint.frame
    findings: list[SceneFinding] = []
    texts = [item for item in checkpoint.items if item.text]
    for item in checkpoint.items:
        if _off_frame(item, frame, ever_inside):
            findings.append(_finding("off_frame", [item], checkpoint, context, _off_text(item)))
    for index, first in enumerate(texts):
        for second in texts[index + 1 :]:
            share = overlap_share(first.box, second.box)
            if share >= OVERLAP_SHARE:
                message = f"overlap each other ({share:.0%} of the smaller one is covered)"
                findings.append(_finding("overlap", [first, second], checkpoint, context, message))
    for item in texts:
        size = screen_font(item, frame)
        if size is not None and size < MIN_FONT_SIZE:
            message = (
                f"is too small to read (font size {size:.0f} on screen,"
                f" minimum {MIN_FONT_SIZE:.0f})"
            )
            findings.append(_finding("too_small", [item], checkpoint, context, message))
    return findings


def _off_frame(item: Item, frame: list[float], ever_inside: set[str]) -> bool:
    past = beyond(item.box, frame)
    if past <= OFF_FRAME_TOLERANCE:
        return False
    if item.text:
        # Partly cut, or never seen at all (an exit by sliding away is seen before it goes).
        seen = _label(item, Context(code_lines=0)) in ever_inside
        return inside_at_all(item.box, frame) or not seen
    return inside_at_all(item.box, frame) and not spans_frame(item.box, frame)


def _off_text(item: Item) -> str:
    return "is cut by the edge of the frame or outside it (keep it inside the frame)"


def _leftover(last: Checkpoint, context: Context) -> SceneFinding | None:
    frame = last.frame
    left = [
        item
        for item in last.items
        if inside_at_all(item.box, frame) and not spans_frame(item.box, frame)
    ]
    if not left:
        return None
    shown = left[:_LEFTOVER_NAMES]
    more = f" and {len(left) - len(shown)} more" if len(left) > len(shown) else ""
    message = (
        f"are still on screen when the scene ends{more}; another scene follows on an empty "
        "frame, so fade them out at the end (e.g. self.play(FadeOut(*self.mobjects)))"
    )
    return _finding("leftover", shown, last, context, message)


def _finding(
    kind: str, items: list[Item], checkpoint: Checkpoint, context: Context, message: str
) -> SceneFinding:
    labels = [_label(item, context) for item in items]
    lines = [line for item in items if (line := _own_line(item.lines, context)) is not None]
    call_line = _own_line(checkpoint.lines, context)
    where = f"after animation {checkpoint.i + 1}" if checkpoint.call != "end" else "at the end"
    if call_line is not None:
        where += f" (line {call_line})"
    described = " and ".join(_described(item, context) for item in items)
    return SceneFinding(
        kind=kind,
        objects=labels,
        message=f"{described} {message}, {where}",
        time_seconds=checkpoint.t,
        source="layout",
        line=lines[0] if lines else call_line,
        animation=checkpoint.i,
    )


def _own_line(lines: list[int], context: Context) -> int | None:
    """The innermost line of the scene's own code (not the helpers appended to it)."""
    return next((line for line in lines if line <= context.code_lines), None)


def _label(item: Item, context: Context) -> str:
    if item.name:
        return item.name
    line = _own_line(item.lines, context)
    return f"{item.type}@{line}" if line is not None else item.type


def _described(item: Item, context: Context) -> str:
    line = _own_line(item.lines, context)
    at = f", line {line}" if line is not None else ""
    return f"{item.type} `{_label(item, context)}`{at}" if item.name else f"a {item.type}{at}"


def findings_of(path: Path, context: Context) -> list[SceneFinding]:
    """The findings of a render's records file ([] when there is none or it is unusable)."""
    records = read_records(path)
    return [] if records is None else find_problems(records, context)
