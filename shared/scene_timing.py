"""The beat helpers scene code may use to follow its narration, and how they get there.

The renderer appends `timing_helpers(narration)` to a narrated scene's code before it
renders (at the end, so the code's own line numbers stay those of its tracebacks); the
module's scene class runs later, when these names exist:

- `BEATS`: seconds each spoken sentence lasts (its pause included);
  `BEAT_STARTS`: when each begins; `SPEECH_SECONDS`: when the speech ends.
- `self.wait_until_beat(i)`: wait until beat i (0-based) starts being spoken (no-op when
  the animation is already past it; an index past the last beat means the end).
- `self.wait_until_end()`: hold until the speech is over (and its short tail).

So code aligns to the voice without arithmetic. The coder's checks know these names.
"""

from __future__ import annotations

from shared.events import Narration

HELPER_NAMES = frozenset({"BEATS", "BEAT_STARTS", "SPEECH_SECONDS"})
# A narrated clip lasts its speech plus this tail (the renderer holds the last frame up to
# it); `wait_until_end` waits it out too, so paced code needs no hold at all.
TAIL_SECONDS = 0.6
MARKER = "# --- videogen: narration timing (added by the renderer) ---"

_HELPERS = """
from manim import Scene as _NarratedScene

BEATS = {beats!r}
BEAT_STARTS = {starts!r}
SPEECH_SECONDS = {speech!r}


def _videogen_wait_until_time(self, moment):
    gap = moment - self.time
    if gap > 0.01:
        self.wait(gap)


def _videogen_wait_until_beat(self, index):
    moment = BEAT_STARTS[index] if 0 <= index < len(BEAT_STARTS) else SPEECH_SECONDS
    _videogen_wait_until_time(self, moment)


def _videogen_wait_until_end(self):
    _videogen_wait_until_time(self, SPEECH_SECONDS + {tail!r})


_NarratedScene.wait_until_beat = _videogen_wait_until_beat
_NarratedScene.wait_until_end = _videogen_wait_until_end
"""


def timing_helpers(narration: Narration) -> str:
    """The helper block for one scene's narration."""
    return (
        MARKER
        + "\n"
        + _HELPERS.format(
            beats=[beat.duration_seconds for beat in narration.beats],
            starts=[beat.start_seconds for beat in narration.beats],
            speech=narration.speech_seconds,
            tail=TAIL_SECONDS,
        )
    )


def with_timing_helpers(code: str, narration: Narration) -> str:
    """`code` with the helpers appended (once: code that already has them is unchanged)."""
    if MARKER in code:
        return code
    return code.rstrip("\n") + "\n\n\n" + timing_helpers(narration)
