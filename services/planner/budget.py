"""How long a video the client asked for → how many scenes, how many beats, how many words.

The one place that decides a video's scene count: the LLM's outline prompt asks for it
and its answer is held to it (`check_outline`), and the built-in model plans to it.
Longer videos get more scenes *and* deeper ones (longer scenes with more beats), rather
than many more 15-second scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.plans import DEFAULT_TARGET_MINUTES, MAX_TARGET_MINUTES, MIN_TARGET_MINUTES

WORDS_PER_SECOND = 2.5  # a calm narrator (150 words a minute; Piper's voice measures 2.7)
SECONDS_PER_BEAT = 6.0  # one or two sentences
MIN_SCENES = 3  # an intro, one idea, a summary
MAX_SCENES = 16
SCENE_SLACK = 1  # an LLM's outline may have this many scenes more than asked


@dataclass(frozen=True)
class SceneBudget:
    """What one video's target length buys."""

    target_minutes: float
    scenes: int  # scenes the outline should have
    scene_seconds: float  # spoken length of one scene
    beats_per_scene: int

    @property
    def words_per_scene(self) -> int:
        return round(self.scene_seconds * WORDS_PER_SECOND)

    @property
    def words_per_beat(self) -> int:
        return max(8, round(self.words_per_scene / self.beats_per_scene))

    @property
    def min_scenes(self) -> int:
        """Half the budget: a narrow topic may need fewer scenes, each going deeper."""
        return max(MIN_SCENES, (self.scenes + 1) // 2)

    @property
    def max_scenes(self) -> int:
        return min(MAX_SCENES, self.scenes + SCENE_SLACK)


def scene_budget(target_minutes: float = DEFAULT_TARGET_MINUTES) -> SceneBudget:
    """1 min → 4 scenes of 15 s (2 beats); 3 min → 8 of 22 s (4); 10 min → 15 of 40 s (7)."""
    minutes = min(max(target_minutes, MIN_TARGET_MINUTES), MAX_TARGET_MINUTES)
    scene_seconds = min(40.0, max(14.0, 10.0 + 4.0 * minutes))
    scenes = min(MAX_SCENES, max(MIN_SCENES, round(60 * minutes / scene_seconds)))
    beats = max(2, round(scene_seconds / SECONDS_PER_BEAT))
    return SceneBudget(minutes, scenes, round(60 * minutes / scenes, 1), beats)


DEFAULT_BUDGET = scene_budget()  # a job that names no target_minutes
