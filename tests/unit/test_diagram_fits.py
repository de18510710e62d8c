"""The built-in model draws no diagram that misleads: over the 80 bundled topics, each
gets exactly the drawing a reviewer judged to fit it, or none.

tests/data/diagram_fits.json is that judgement, written topic by topic with its reason
(the topics are TheoremExplainBench's, see videogen/topics/LICENSE). "Fits" means the
drawing depicts what the topic is about — a right triangle for Pythagoras, a P-V isotherm
for a PV diagram — not something its context mentions in passing ("pressure" in Pascal's
principle, "force" in Coulomb's law). A topic without a fit gets text and formula scenes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.coder.models.builtin.code import write_code
from services.planner.budget import scene_budget
from services.planner.models.builtin.analysis import DIAGRAM_RULES
from services.planner.models.builtin.outline import build_outline, build_plan
from videogen.topics import load_topics

FITS = json.loads((Path(__file__).parents[1] / "data" / "diagram_fits.json").read_text())
TOPICS = load_topics()


def test_the_judgement_covers_every_bundled_topic():
    assert len(TOPICS) == 80
    assert {t.topic for t in TOPICS} == set(FITS)
    fitting = [t for t in TOPICS if FITS[t.topic]["diagram"]]
    assert 20 <= len(fitting) <= 40  # most topics have no fitting drawing: they get none


def test_no_rule_is_a_catch_all():
    """Every drawing needs its own words in the topic: no generic bars, no default curve."""
    assert all(rule.topics for rule in DIAGRAM_RULES)
    drawn = {f"{r.kind}/{r.variant}" for r in DIAGRAM_RULES}
    assert "bars/plain" not in drawn


@pytest.mark.parametrize("minutes", [1, 5])
@pytest.mark.parametrize("topic", TOPICS, ids=[f"{t.subject}:{t.topic}" for t in TOPICS])
def test_each_topic_gets_the_drawing_that_fits_or_none(topic, minutes):
    budget = scene_budget(minutes)
    outline = build_outline(topic.topic, topic.context, budget)
    plans = [
        build_plan(topic.topic, topic.context, outline, s.number, budget) for s in outline.scenes
    ]
    drawn = [f"{p.diagram}/{p.diagram_variant}" for p in plans if p.diagram]
    expected = FITS[topic.topic]["diagram"]
    assert drawn == ([expected] if expected else []), FITS[topic.topic]["why"]
    if expected is None:
        assert "diagram" not in [s.kind for s in outline.scenes]
        for plan in plans:
            # The code of every scene is text, bullets or a formula: no shapes of a drawing.
            code = write_code(plan)
            assert not any(
                name in code for name in ("Polygon(", "Axes(", "Arrow(", "Rectangle(width=0.8")
            )
