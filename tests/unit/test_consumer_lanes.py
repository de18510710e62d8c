"""Every job's work has a consumer in every stage, whatever the job's priority."""

from __future__ import annotations

import pytest

from shared.broker import ANY_LANE, CONSUMERS, ConsumerSpec
from shared.events import PRIORITY_LANE


@pytest.mark.parametrize("spec", CONSUMERS.values(), ids=lambda spec: spec.durable)
def test_each_lane_of_each_consumer_has_a_taker(spec: ConsumerSpec):
    if spec.lane == ANY_LANE:
        assert f"{spec.durable}-priority" not in CONSUMERS
        return
    normal = CONSUMERS[spec.durable.removesuffix("-priority")]
    priority = CONSUMERS[f"{normal.durable}-priority"]
    assert (normal.lane, priority.lane) == (None, PRIORITY_LANE)
    assert normal.event_type == priority.event_type


def test_a_consumer_without_a_twin_takes_both_lanes():
    spec = ConsumerSpec("renderer", "scene.coded")
    assert spec.takes(None) and spec.takes(PRIORITY_LANE)


def test_twins_split_the_lanes():
    normal, priority = (
        ConsumerSpec("x", "a", lane=None),
        ConsumerSpec("x-p", "a", lane=PRIORITY_LANE),
    )
    assert normal.takes(None) and not normal.takes(PRIORITY_LANE)
    assert priority.takes(PRIORITY_LANE) and not priority.takes(None)
