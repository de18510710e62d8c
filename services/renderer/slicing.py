"""Whether a scene is rendered in slices, which slices, and whether their joins are exact.

Plain functions, no broker and no Manim: the handlers call them with what a dry run
(:mod:`services.renderer.fastforward`) reported. A scene is sliced only when its video is
long enough to pay for the slices' fast-forwards, it has enough animations to split, and
its code uses nothing known to differ between two runs; after rendering, each slice's
starting state must equal the state the previous slice ended in, or the slices are
discarded and the scene is rendered whole (the reason is recorded either way).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from services.renderer.fastforward import SliceReport

# Calls whose results differ between two runs of the same code: a slice would fast-forward
# through a different history than the whole render had.
_UNSAFE_CALLS = {
    "time": "reads the clock",
    "perf_counter": "reads the clock",
    "monotonic": "reads the clock",
    "time_ns": "reads the clock",
    "now": "reads the clock",
    "today": "reads the clock",
    "utcnow": "reads the clock",
    "open": "reads files",
    "read_text": "reads files",
    "read_bytes": "reads files",
    "urandom": "uses system randomness",
    "SystemRandom": "uses system randomness",
    "uuid4": "uses system randomness",
    "token_bytes": "uses system randomness",
    "token_hex": "uses system randomness",
    "getpid": "reads its process id",
    "Thread": "starts threads",
}


@dataclass(frozen=True)
class SliceDecision:
    """The ranges to render (one range: whole) and why the scene is or is not sliced."""

    ranges: tuple[tuple[int, int], ...]
    reason: str

    @property
    def sliced(self) -> bool:
        return len(self.ranges) > 1


def unsafe_constructs(code: str) -> list[str]:
    """What in ``code`` makes two runs differ ("line 12: time() reads the clock")."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ["the code does not parse"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called_name(node.func)
            if name in _UNSAFE_CALLS:
                found.append(f"line {node.lineno}: {name}() {_UNSAFE_CALLS[name]}")
    return found


def refusal(code: str, *, min_seconds: float, max_slices: int, renderer: str) -> str | None:
    """Why the scene is rendered whole whatever its length (no dry run needed), or None."""
    if max_slices < 2 or min_seconds <= 0:
        return "slicing is off"
    if renderer != "cairo":
        return f"the {renderer} renderer is not sliced"
    unsafe = unsafe_constructs(code)
    if unsafe:
        return f"not reproducible: {unsafe[0]}"
    return None


def decide(durations: Sequence[float], *, min_seconds: float, max_slices: int) -> SliceDecision:
    """Slice ranges of about equal video time, or the whole scene with the reason."""
    total = sum(durations)
    whole = ((0, len(durations)),)
    if total < min_seconds:
        return SliceDecision(whole, f"{total:.1f} s of video is under {min_seconds:g} s")
    ranges = balanced_ranges(durations, max_slices)
    if len(ranges) < 2:
        return SliceDecision(whole, "one animation holds most of the video")
    return SliceDecision(
        tuple(ranges), f"{len(ranges)} slices of about {total / len(ranges):.1f} s"
    )


def balanced_ranges(durations: Sequence[float], slices: int) -> list[tuple[int, int]]:
    """Split animation indices into at most ``slices`` ranges of about equal video time.

    A cut goes where the running total is nearest to each multiple of total/slices; empty
    ranges are dropped, so one long animation is never split.
    """
    total = sum(durations)
    if not durations or total <= 0:
        return [(0, len(durations))]
    cuts = [0]
    elapsed = 0.0
    target = 1
    for index, duration in enumerate(durations[:-1], start=1):
        before, elapsed = elapsed, elapsed + duration
        goal = total * target / slices
        if elapsed >= goal and target < slices:
            cut = index if elapsed - goal <= goal - before else index - 1
            if cut > cuts[-1]:
                cuts.append(cut)
            target += 1
    cuts.append(len(durations))
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


Range = tuple[int, int | None]  # animations [start, end); None: to the scene's end


def open_ended(ranges: Sequence[tuple[int, int]]) -> tuple[Range, ...]:
    """The ranges with the last one running to the scene's real end.

    The dry pass counts with placeholder formulas (:mod:`.dry_tex`), so its count only
    balances the slices; the last slice is the one that sees where the scene ends.
    """
    if not ranges:
        return ()
    *head, (start, _end) = ranges
    return (*head, (start, None))


def mismatch(ranges: Sequence[Range], reports: Sequence[SliceReport]) -> str | None:
    """Why the rendered slices do not join into the whole render, or None when they do.

    Slice 0 starts from the scene's first line, exactly as a whole render does; each later
    slice must start in the state the previous one *rendered* into (its fast-forward
    reproduced the rendered history). A slice that ended early (the scene had fewer
    animations than the dry pass counted) never reached its boundary, which fails too.
    """
    for number, ((start, end), report) in enumerate(zip(ranges, reports, strict=True)):
        if end is not None and report.plays != end:
            return f"slice {number} ended after {report.plays} animations, not {end}"
        if number == 0:
            continue
        previous = reports[number - 1].hashes.get(start)
        if previous is None or report.hashes.get(start) != previous:
            return (
                f"the state at animation {start} differs between slices {number - 1} and {number}"
            )
    return None


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None
