"""Outline and scene plans of the built-in planner, derived from the text analysis.

A video is an intro, statement scenes (one key sentence of the context per beat), a
formula scene when the context has a formula, a diagram scene when a drawing fits the
topic (`DIAGRAM_RULES`), and a summary. The job's `SceneBudget` sets how many statement
scenes there are and how many beats each has: a longer video uses more of the context,
and says more about its formula and drawing. The built-in model cannot say more than
the context holds, so a short context makes a video shorter than its target.
"""

from __future__ import annotations

from typing import Any

from services.planner.budget import DEFAULT_BUDGET, SceneBudget
from services.planner.models.builtin.analysis import Analysis, analyze, shorten
from shared.plans import Outline, PlanBeat, PlanObject, SceneOutline, ScenePlan

MAX_ROWS = 4  # key statements on screen at once: more would be too small to read

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
_HEADING = PlanObject(
    name="heading", manim="Text", region="top", placement="to_edge(UP, buff=0.45)"
)


def _extras(analysis: Analysis, budget: SceneBudget) -> list[str]:
    extras = (["formula"] if analysis.formulas else []) + (["diagram"] if analysis.diagram else [])
    return extras[: max(0, budget.max_scenes - 3)]  # a short video keeps the formula first


def statements_per_scene(analysis: Analysis, budget: SceneBudget) -> int:
    """Rows of a statement scene: the budget's beats, fewer when that fills the room.

    A short context spreads over the scenes a longer target allows (one statement a scene
    at worst) rather than fitting into fewer, so more minutes never mean fewer scenes.
    """
    room = max(1, budget.scenes - 2 - len(_extras(analysis, budget)))
    spread = -(-len(analysis.statements) // room)
    return max(1, min(MAX_ROWS, budget.beats_per_scene, spread))


def scene_kinds(analysis: Analysis, budget: SceneBudget = DEFAULT_BUDGET) -> list[str]:
    """Scene kinds in order: as many statement scenes as the budget has room and text for."""
    extras = _extras(analysis, budget)
    room = budget.scenes - 2 - len(extras)
    needed = -(-len(analysis.statements) // statements_per_scene(analysis, budget))
    return ["intro", *["statement"] * max(1, min(room, needed)), *extras, "summary"]


def _statement_chunk(analysis: Analysis, index: int, budget: SceneBudget) -> list[str]:
    """Statements for the index-th statement scene (never empty)."""
    size = statements_per_scene(analysis, budget)
    chunk = list(analysis.statements[index * size : (index + 1) * size])
    return chunk or list(analysis.statements[:1])


def _agenda(kinds: list[str]) -> str:
    parts = [_AGENDA[k] for k in dict.fromkeys(kinds) if k in _AGENDA]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _mid_sentence(topic: str) -> str:
    """ "The Octet Rule" reads as "the Octet Rule" inside a sentence."""
    return "the" + topic[3:] if topic.startswith("The ") else topic


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?…" else text + "."


def build_outline(topic: str, context: str, budget: SceneBudget = DEFAULT_BUDGET) -> Outline:
    """The scene outline: titles and purposes, one line per scene."""
    analysis = analyze(topic, context)
    kinds = scene_kinds(analysis, budget)
    scenes: list[SceneOutline] = []
    statement_index = 0
    for number, kind in enumerate(kinds, start=1):
        if kind == "intro":
            title, purpose = analysis.topic, f"Introduce {analysis.topic}: {_agenda(kinds)}."
        elif kind == "statement":
            title = (
                "Key ideas" if statement_index == 0 else f"Key ideas, part {statement_index + 1}"
            )
            chunk = _statement_chunk(analysis, statement_index, budget)
            purpose = f"Explain: {shorten(chunk[0], 90)}"
            statement_index += 1
        elif kind == "formula":
            title = "The formulas" if len(analysis.formulas) > 1 else "The formula"
            purpose = "Show " + " and ".join(analysis.formulas) + " and say what it means."
        elif kind == "diagram" and analysis.diagram:
            title = "Picture it"
            purpose = f"Make {analysis.topic} visual: {analysis.diagram.caption}"
        else:
            title, purpose = "Summary", f"Recap the main points about {analysis.topic}."
        scenes.append(SceneOutline(number=number, title=title, purpose=purpose, kind=kind))
    return Outline(topic=analysis.topic, scenes=scenes)


def build_plan(
    topic: str, context: str, outline: Outline, number: int, budget: SceneBudget = DEFAULT_BUDGET
) -> ScenePlan:
    """Write out scene `number` of the outline: storyboard, technical plan and beats."""
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
        return _formula_plan(analysis, budget, common)
    if scene.kind == "diagram" and analysis.diagram:
        return _diagram_plan(analysis, budget, common)
    if scene.kind == "summary":
        return _summary_plan(analysis, budget, kinds.count("statement"), common)
    index = sum(1 for s in outline.scenes if s.kind == "statement" and s.number < number)
    return _statement_plan(analysis, _statement_chunk(analysis, index, budget), common)


def _rows(texts: list[str]) -> list[PlanObject]:
    return [
        PlanObject(
            name=f"row{i}",
            manim="Text",
            content=text,
            region="center",
            placement="below the heading, bullet rows arranged downwards, left-aligned"
            if i == 0
            else f"next_to(row{i - 1}, DOWN, buff=0.45), aligned left",
        )
        for i, text in enumerate(texts)
    ]


def _row_beats(texts: list[str], narration: list[str], first: str) -> list[PlanBeat]:
    """One beat per row: the row fades in while its sentence is spoken."""
    return [
        PlanBeat(
            narration=said,
            visual=f"bullet {i + 1} appears" + (" under the heading" if i == 0 else ""),
            animations=([first] if i == 0 else []) + [f"FadeIn(row{i}, shift=RIGHT * 0.2)"],
        )
        for i, said in enumerate(narration)
    ]


def _intro_plan(analysis: Analysis, kinds: list[str], common: dict[str, Any]) -> ScenePlan:
    subtitle = f"In this video: {_agenda(kinds)}"
    return ScenePlan(
        kind="intro",
        storyboard=(
            f'The title "{analysis.topic}" is written in the middle of the screen, a line '
            f'is drawn under it and the subtitle "{subtitle}" fades in below.'
        ),
        objects=[
            PlanObject(
                name="title",
                manim="Text",
                content=analysis.topic,
                region="center",
                placement="move_to(UP * 0.7), bold, 54 pt, scaled to 12.5 units wide",
            ),
            PlanObject(
                name="rule", manim="Line", region="center", placement="next_to(title, DOWN)"
            ),
            PlanObject(
                name="subtitle",
                manim="Text",
                content=subtitle,
                region="center",
                placement="next_to(rule, DOWN, buff=0.4), 28 pt",
            ),
        ],
        technical_plan="Title Write 1.2 s; rule Create and subtitle FadeIn together 0.8 s; hold.",
        beats=[
            PlanBeat(
                narration=f"Welcome! This short video explains {_mid_sentence(analysis.topic)}.",
                visual="the title is written",
                animations=["Write(title)"],
            ),
            PlanBeat(
                narration=f"We will look at {_agenda(kinds)}.",
                visual="the line and the subtitle appear",
                animations=["Create(rule)", "FadeIn(subtitle)"],
            ),
        ],
        statements=[subtitle],
        **common,
    )


def _statement_plan(analysis: Analysis, chunk: list[str], common: dict[str, Any]) -> ScenePlan:
    return ScenePlan(
        kind="statement",
        storyboard=(
            f'Under the heading "{common["title"]}", {len(chunk)} key statement(s) about '
            f"{analysis.topic} appear one after another as bullet points, each as it is said."
        ),
        objects=[
            PlanObject(
                name="heading",
                manim="Text",
                content=common["title"],
                region="top",
                placement=_HEADING.placement,
            ),
            *_rows(chunk),
        ],
        technical_plan=(
            "Heading Text 40 pt; each row a wrapped Text 28 pt with a bullet Dot, rows "
            "arranged downwards and scaled to fit 12.6 x 5.6 units; FadeIn 0.7 s each."
        ),
        beats=_row_beats(chunk, chunk, "FadeIn(heading)"),
        statements=chunk,
        **common,
    )


def _formula_plan(analysis: Analysis, budget: SceneBudget, common: dict[str, Any]) -> ScenePlan:
    spoken = " and ".join(analysis.formulas)
    note = analysis.formula_note
    beats = [
        PlanBeat(
            narration=f"The key relationship is {spoken}.",
            visual="the formula is written large in the centre",
            animations=["FadeIn(heading)", "Write(formula)"],
        )
    ]
    if note:
        beats.append(
            PlanBeat(
                narration=_sentence(note),
                visual="a box frames the formula and the explanation fades in below",
                animations=["Create(box)", "FadeIn(note)"],
            )
        )
    if budget.beats_per_scene >= 3 and len(analysis.formulas) > 1:
        beats.append(
            PlanBeat(
                narration=f"Keep both in mind: {analysis.formulas[1]}.",
                visual="the second formula stays framed",
                animations=["Indicate(formula)"],
            )
        )
    return ScenePlan(
        kind="formula",
        storyboard=(
            f"The formula {spoken} is written large in the centre and framed; "
            "a short explanation fades in underneath."
        ),
        objects=[
            PlanObject(
                name="heading",
                manim="Text",
                content=common["title"],
                region="top",
                placement=_HEADING.placement,
            ),
            PlanObject(
                name="formula",
                manim="MathTex",
                content=spoken,
                region="center",
                placement="move_to(UP * 0.4), 64 pt, scaled to 12 units wide",
            ),
            PlanObject(
                name="box",
                manim="SurroundingRectangle",
                region="center",
                placement="around formula, buff=0.3",
            ),
            PlanObject(
                name="note",
                manim="Text",
                content=note,
                region="bottom",
                placement="next_to(box, DOWN, buff=0.5), 26 pt",
            ),
        ],
        technical_plan="MathTex converted from the formula; Write 1.5 s; box Create 0.5 s.",
        beats=beats,
        statements=[note] if note else [],
        formulas=list(analysis.formulas),
        **common,
    )


def _diagram_plan(analysis: Analysis, budget: SceneBudget, common: dict[str, Any]) -> ScenePlan:
    rule = analysis.diagram
    assert rule is not None  # build_plan checked
    notes = list(rule.notes[: max(0, budget.beats_per_scene - 2)])
    beats = [
        PlanBeat(
            narration="Let us picture it.",
            visual=f"a labelled {rule.kind.replace('_', ' ')} drawing is built step by step",
            animations=["FadeIn(heading)", "Create(drawing)"],
        ),
        *[
            PlanBeat(narration=n, visual="the drawing's labels", animations=["Indicate(drawing)"])
            for n in notes
        ],
        PlanBeat(
            narration=rule.caption,
            visual="the caption appears at the bottom",
            animations=["FadeIn(caption)"],
        ),
    ]
    return ScenePlan(
        kind="diagram",
        storyboard=(
            f"A labelled {rule.kind.replace('_', ' ')} drawing for {analysis.topic} is drawn "
            f'step by step, then the caption "{rule.caption}" appears at the bottom.'
        ),
        objects=[
            PlanObject(
                name="heading",
                manim="Text",
                content=common["title"],
                region="top",
                placement=_HEADING.placement,
            ),
            PlanObject(
                name="drawing",
                manim="VGroup",
                content=f"{rule.kind} diagram, variant {rule.variant}",
                region="center",
                placement="between the heading and the caption",
            ),
            PlanObject(
                name="caption",
                manim="Text",
                content=rule.caption,
                region="bottom",
                placement="to_edge(DOWN, buff=0.35), 26 pt",
            ),
        ],
        technical_plan=(
            f"Diagram {rule.kind}, variant: {rule.variant}. Built from simple Manim shapes "
            "with Text labels (no LaTeX), kept between the heading and the caption."
        ),
        beats=beats,
        statements=[rule.caption],
        diagram=rule.kind,
        diagram_variant=rule.variant,
        **common,
    )


def _summary_plan(
    analysis: Analysis, budget: SceneBudget, statement_scenes: int, common: dict[str, Any]
) -> ScenePlan:
    """One point per statement scene (its first statement), the formula, then goodbye."""
    size = statements_per_scene(analysis, budget)
    firsts = [
        analysis.statements[i * size]
        for i in range(statement_scenes)
        if i * size < len(analysis.statements)
    ]
    points = [shorten(p, 100) for p in firsts[: max(1, min(MAX_ROWS, budget.beats_per_scene) - 1)]]
    if analysis.formulas:
        points.append(f"Formula: {analysis.formulas[0]}")
    if len(points) < 2 and len(analysis.statements) > 1:
        points.append(shorten(analysis.statements[-1], 100))
    said = [_sentence(p) for p in points]
    said[0] = "To sum up: " + said[0]
    said[-1] += " Thanks for watching!"
    return ScenePlan(
        kind="summary",
        storyboard=f"A recap of {analysis.topic}: {len(points)} bullet points appear in turn.",
        objects=[
            PlanObject(
                name="heading",
                manim="Text",
                content="Summary",
                region="top",
                placement=_HEADING.placement,
            ),
            *_rows(points),
        ],
        technical_plan="Heading Text 40 pt; bullet rows of wrapped Text 28 pt, FadeIn in turn.",
        beats=_row_beats(points, said, "FadeIn(heading)"),
        statements=points,
        **common,
    )
