"""Outline and scene plans of the built-in planner, derived from the text analysis.

A video is 3-5 short scenes: intro, one or two key-statement scenes, a formula scene
when the context has a formula, a diagram scene when a diagram kind fits, and a summary.
"""

from __future__ import annotations

from typing import Any

from services.planner.models.builtin.analysis import (
    DIAGRAM_CAPTIONS,
    Analysis,
    analyze,
    diagram_variant,
    shorten,
)
from shared.plans import Outline, SceneOutline, ScenePlan

STATEMENTS_PER_SCENE = 3
MAX_SCENES = 5

_CLASS_SUFFIX = {
    "intro": "Intro",
    "statement": "KeyIdeas",
    "formula": "Formula",
    "diagram": "Diagram",
    "summary": "Summary",
}
_AGENDA = {
    "statement": "the key ideas",
    "formula": "the formula",
    "diagram": "a diagram",
    "summary": "a summary",
}
DIAGRAM_TITLES = {
    "triangle": "Picture it: the triangle",
    "circle": "Picture it: a circle and an angle",
    "axes_plot": "Picture it: a graph",
    "vectors": "Picture it: forces as arrows",
    "graph_nodes": "Picture it: nodes and links",
    "bars": "Picture it: values as bars",
    "atom": "Picture it: an atom",
    "wave": "Picture it: a wave",
}


def scene_kinds(analysis: Analysis) -> list[str]:
    """Scene kinds in order; a second statement scene only when there is room for it."""
    extras = (["formula"] if analysis.formulas else []) + (["diagram"] if analysis.diagram else [])
    room = MAX_SCENES - 2 - len(extras)
    needed = -(-len(analysis.statements) // STATEMENTS_PER_SCENE)
    return ["intro", *["statement"] * max(1, min(room, needed)), *extras, "summary"]


def _statement_chunk(analysis: Analysis, index: int, count: int) -> list[str]:
    """Statements for the index-th of `count` statement scenes."""
    size = STATEMENTS_PER_SCENE if count > 1 else len(analysis.statements)
    chunk = list(analysis.statements[index * size : (index + 1) * size])
    return chunk[:STATEMENTS_PER_SCENE] or list(analysis.statements[:1])


def _agenda(kinds: list[str]) -> str:
    parts = [_AGENDA[k] for k in dict.fromkeys(kinds) if k in _AGENDA]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _mid_sentence(topic: str) -> str:
    """ "The Octet Rule" reads as "the Octet Rule" inside a sentence."""
    return "the" + topic[3:] if topic.startswith("The ") else topic


def build_outline(topic: str, context: str) -> Outline:
    """The scene outline: titles and purposes, one line per scene."""
    analysis = analyze(topic, context)
    kinds = scene_kinds(analysis)
    scenes: list[SceneOutline] = []
    statement_index = 0
    for number, kind in enumerate(kinds, start=1):
        if kind == "intro":
            title, purpose = analysis.topic, f"Introduce {analysis.topic}: {_agenda(kinds)}."
        elif kind == "statement":
            title = "Key ideas" if statement_index == 0 else "Going further"
            chunk = _statement_chunk(analysis, statement_index, kinds.count("statement"))
            purpose = f"Explain: {shorten(chunk[0], 90)}"
            statement_index += 1
        elif kind == "formula":
            title = "The formulas" if len(analysis.formulas) > 1 else "The formula"
            purpose = "Show " + " and ".join(analysis.formulas) + " and say what it means."
        elif kind == "diagram":
            title = DIAGRAM_TITLES[analysis.diagram or ""]
            purpose = f"Make {analysis.topic} visual with a labelled {analysis.diagram} diagram."
        else:
            title, purpose = "Summary", f"Recap the main points about {analysis.topic}."
        scenes.append(SceneOutline(number=number, title=title, purpose=purpose, kind=kind))
    return Outline(topic=analysis.topic, scenes=scenes)


def build_plan(topic: str, context: str, outline: Outline, number: int) -> ScenePlan:
    """Write out scene `number` of the outline: storyboard, technical plan and narration."""
    scene = next((s for s in outline.scenes if s.number == number), None)
    if scene is None:
        raise ValueError(f"outline has no scene {number}")
    analysis = analyze(topic, context)
    kinds = [s.kind for s in outline.scenes]
    class_name = f"Scene{number:02d}{_CLASS_SUFFIX.get(scene.kind, 'Scene')}"
    common = {"number": number, "title": scene.title, "class_name": class_name}
    if scene.kind == "intro":
        return _intro_plan(analysis, kinds, common)
    if scene.kind == "formula" and analysis.formulas:
        return _formula_plan(analysis, common)
    if scene.kind == "diagram" and analysis.diagram:
        return _diagram_plan(analysis, analysis.diagram, common)
    if scene.kind == "summary":
        return _summary_plan(analysis, common)
    index = sum(1 for s in outline.scenes if s.kind == "statement" and s.number < number)
    chunk = _statement_chunk(analysis, index, max(1, kinds.count("statement")))
    return _statement_plan(analysis, chunk, common)


def _intro_plan(analysis: Analysis, kinds: list[str], common: dict[str, Any]) -> ScenePlan:
    subtitle = f"In this video: {_agenda(kinds)}"
    return ScenePlan(
        kind="intro",
        storyboard=(
            f'The title "{analysis.topic}" is written in the middle of the screen, a line '
            f'is drawn under it and the subtitle "{subtitle}" fades in below.'
        ),
        technical_plan=(
            "Text title (bold, 54 pt, wrapped and scaled to fit 12.5 units), Write 1.2 s; "
            "Line underneath and Text subtitle (28 pt) fade in over 0.8 s; hold 2 s."
        ),
        narration=f"Welcome! This short video explains {_mid_sentence(analysis.topic)}. "
        f"We will look at {_agenda(kinds)}.",
        statements=[subtitle],
        **common,
    )


def _statement_plan(analysis: Analysis, chunk: list[str], common: dict[str, Any]) -> ScenePlan:
    return ScenePlan(
        kind="statement",
        storyboard=(
            f'Under the heading "{common["title"]}", {len(chunk)} key statement(s) about '
            f"{analysis.topic} appear one after another as bullet points."
        ),
        technical_plan=(
            "Heading Text (40 pt) at the top; each statement is a wrapped Text (28 pt) with "
            "a bullet Dot, arranged downwards and scaled to fit the frame; FadeIn 0.7 s "
            "each with a 0.5 s pause."
        ),
        narration=" ".join(chunk),
        statements=chunk,
        **common,
    )


def _formula_plan(analysis: Analysis, common: dict[str, Any]) -> ScenePlan:
    spoken = " and ".join(analysis.formulas)
    note = analysis.formula_note
    return ScenePlan(
        kind="formula",
        storyboard=(
            f"The formula {spoken} is written large in the centre and framed; "
            "a short explanation fades in underneath."
        ),
        technical_plan=(
            "MathTex of the formula converted to LaTeX (64 pt, scaled to fit 12 units), "
            "Write 1.5 s; SurroundingRectangle and caption Text (26 pt) fade in; hold 2 s."
        ),
        narration=f"The key relationship is {spoken}. {note}".strip(),
        statements=[note] if note else [],
        formulas=list(analysis.formulas),
        **common,
    )


def _diagram_plan(analysis: Analysis, kind: str, common: dict[str, Any]) -> ScenePlan:
    variant = diagram_variant(kind, f"{analysis.topic} {' '.join(analysis.statements)}")
    caption = DIAGRAM_CAPTIONS[f"{kind}/{variant}"]
    return ScenePlan(
        kind="diagram",
        storyboard=(
            f"A labelled {kind.replace('_', ' ')} diagram for {analysis.topic} is drawn "
            f'step by step, then the caption "{caption}" appears at the bottom.'
        ),
        technical_plan=(
            f"Diagram {kind}, variant: {variant}. Built from simple Manim shapes with Text "
            "labels (no LaTeX), kept between the heading and the caption; about 5 s."
        ),
        narration=f"Let us picture it. {caption}",
        statements=[caption],
        diagram=kind,
        diagram_variant=variant,
        **common,
    )


def _summary_plan(analysis: Analysis, common: dict[str, Any]) -> ScenePlan:
    points = [shorten(analysis.statements[0], 100)]
    if analysis.formulas:
        points.append(f"Formula: {analysis.formulas[0]}")
    if len(analysis.statements) > 1:
        points.append(shorten(analysis.statements[-1], 100))
    return ScenePlan(
        kind="summary",
        storyboard=f"A recap of {analysis.topic}: {len(points)} bullet points appear in turn.",
        technical_plan=(
            "Heading Text 'Summary' (40 pt); bullet rows of wrapped Text (28 pt) shown "
            "with a LaggedStart of FadeIn over 2 s; hold 2 s."
        ),
        narration="To sum up: "
        + " ".join(p if p[-1] in ".!?…" else p + "." for p in points)
        + " Thanks for watching!",
        statements=points,
        **common,
    )
