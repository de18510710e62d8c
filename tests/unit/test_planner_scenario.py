"""Planner logic without a broker: outline bounds and usable scene class names."""

from __future__ import annotations

import pytest

from services.planner.scenario import OutlineRejected, check_outline, with_usable_class_names
from shared.plans import Outline, SceneOutline, ScenePlan


def _plan(number: int, class_name: str) -> ScenePlan:
    return ScenePlan(
        number=number,
        title="t",
        kind="statement",
        class_name=class_name,
        storyboard="s",
        technical_plan="p",
        narration="n",
    )


def test_outline_scenes_are_renumbered_and_bounded():
    outline = Outline(
        topic="t", scenes=[SceneOutline(number=7, title=f"s{i}", purpose="p") for i in range(3)]
    )
    assert [s.number for s in check_outline(outline).scenes] == [1, 2, 3]
    with pytest.raises(OutlineRejected):
        check_outline(Outline(topic="t", scenes=outline.scenes[:2]))


def test_unusable_or_repeated_class_names_are_replaced():
    plans = with_usable_class_names(
        [
            _plan(1, "Intro"),
            _plan(2, "Key ideas!"),
            _plan(3, "Intro"),
            _plan(4, "class"),
        ]
    )
    assert [p.class_name for p in plans] == ["Intro", "Scene02", "Scene03", "Scene04"]
