"""The built-in offline model: analysis, outline, plans and the Manim code it writes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.coder.models import SceneCoder
from services.coder.models.builtin import BuiltinCoder
from services.coder.models.builtin.code import LINE_CHARS, wrap
from services.coder.models.builtin.latex import escape_latex_text, to_latex
from services.planner.budget import DEFAULT_BUDGET, scene_budget
from services.planner.models import Planner
from services.planner.models.builtin import BuiltinPlanner
from services.planner.models.builtin.analysis import (
    analyze,
    detect_formulas,
    fitting_diagram,
    shorten,
)
from shared.plaintext import split_sentences
from shared.plans import MAX_BEAT_CHARS, ScenePlan
from videogen.topics import find_topic, load_topics

TOPICS_DIR = Path(__file__).resolve().parents[2] / "videogen" / "topics"
ALLOWED_IMPORTS = {"manim", "numpy", "math", "random"}
PYTHAGORAS = (
    "In a right-angled triangle, the square of the length of the hypotenuse (the side "
    "opposite the right angle) is equal to the sum of the squares of the lengths of the "
    "other two sides. If a and b are the lengths of the legs and c is the length of the "
    "hypotenuse, then  a² + b² = c²."
)


def all_topics() -> list[tuple[str, str]]:
    """(topic, context) for all 80 bundled topics; contexts capped like the API does."""
    pairs: list[tuple[str, str]] = []
    for name in ("math", "physics", "comp_sci", "chemistry"):
        for item in json.loads((TOPICS_DIR / f"{name}.json").read_text(encoding="utf-8")):
            pairs.append((item["theorem"], item["description"][:2000]))
    return pairs


async def scenes_for(topic: str, context: str) -> list[tuple[ScenePlan, str]]:
    planner: Planner = BuiltinPlanner()
    coder: SceneCoder = BuiltinCoder()
    outline = await planner.outline(topic=topic, context=context)
    result = []
    for scene in outline.scenes:
        plan = await planner.plan_scene(
            topic=topic, context=context, outline=outline, number=scene.number
        )
        result.append((plan, await coder.write_code(plan)))
    return result


def check_module(code: str, class_name: str) -> None:
    """Compiles, imports only allowed modules, defines exactly the one Scene class."""
    compile(code, f"{class_name}.py", "exec")
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= ALLOWED_IMPORTS
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] in ALLOWED_IMPORTS
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == [class_name]
    assert [b.id for b in classes[0].bases if isinstance(b, ast.Name)] == ["Scene"]
    assert any(isinstance(f, ast.FunctionDef) and f.name == "construct" for f in classes[0].body)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (PYTHAGORAS, ["a² + b² = c²"]),
        ("Newton says F = ma for a body.", ["F = ma"]),
        ("Mass and energy: E = mc^2, where c is the speed of light.", ["E = mc^2"]),
        ("For an ideal gas: PV = nRT, where R is the gas constant.", ["PV = nRT"]),
        ("The roots are x = (-b ± √(b²-4ac)) / 2a in general.", ["x = (-b ± √(b²-4ac)) / 2a"]),
        ("the sum is: S_n = a * (1 - r^n) / (1 - r) for r != 1", ["S_n = a * (1 - r^n) / (1 - r)"]),
        ("Imaginary unit (i^2 = -1) matters.", ["i^2 = -1"]),
        ("A kite has two pairs of equal sides.", []),
        ("Equality = fairness, they said.", []),
    ],
)
def test_detect_formulas(context: str, expected: list[str]) -> None:
    assert detect_formulas(context) == expected


def test_standalone_formulas_win_over_inline_side_notes() -> None:
    context = "It is:\n\ne^(ix) = cos(x) + i*sin(x)\n\nwhere x = π here.\n\ne^(iπ) + 1 = 0\n"
    assert detect_formulas(context) == ["e^(ix) = cos(x) + i*sin(x)", "e^(iπ) + 1 = 0"]


@pytest.mark.parametrize(
    ("formula", "latex"),
    [
        ("a² + b² = c²", "a^{2} + b^{2} = c^{2}"),
        ("F = ma", "F = ma"),
        ("E = mc^2", "E = mc^{2}"),
        ("PV = nRT", "PV = nRT"),
        ("x = (-b ± √(b²-4ac)) / 2a", r"x = (-b \pm \sqrt{b^{2}-4ac}) / 2a"),
        ("n₁sin(θ₁) = n₂sin(θ₂)", r"n_{1}\sin (\theta _{1}) = n_{2}\sin (\theta _{2})"),
        ("a × b · c", r"a \times b \cdot c"),
        ("a ≤ b ≠ c ≈ d ≥ e", r"a \le b \ne c \approx d \ge e"),
        ("ΔE = h·λ + π", r"\Delta E = h\cdot \lambda + \pi"),
        ("F_net = ma", r"F_{\text{net}} = ma"),
        ("e^(iπ) + 1 = 0", r"e^{i\pi } + 1 = 0"),
        ("|AB| + |BC| >= |AC|", r"|AB| + |BC| \ge |AC|"),
        ("p = 50% & q # 1", r"p = 50\% \& q \# 1"),
        ("Area = (1/2) * d1 * d2", r"\text{Area} = (1/2) \cdot d_{1} \cdot d_{2}"),
    ],
)
def test_to_latex(formula: str, latex: str) -> None:
    assert to_latex(formula) == latex


def test_to_latex_falls_back_to_escaped_text() -> None:
    assert to_latex("x = ∮ y_ & z") == r"\text{x =  y\_ \& z}"


def test_escape_latex_text() -> None:
    assert escape_latex_text("50% & #1 $5 a_b {x}") == r"50\% \& \#1 \$5 a\_b \{x\}"


def test_split_sentences_drops_numbering_and_spaces() -> None:
    text = "Some intro:\n\n1. First item  is here.\n2. Second item is here.\n- Third one."
    assert split_sentences(text) == [
        "Some intro:",
        "First item is here.",
        "Second item is here.",
        "Third one.",
    ]
    inline = "Laws:  1) NOT (A AND B) is X.  2) NOT (A OR B) is Y, and 0) in prose stays."
    assert split_sentences(inline) == [
        "Laws:",
        "NOT (A AND B) is X.",
        "NOT (A OR B) is Y, and 0) in prose stays.",
    ]


def test_statements_are_capped_and_wrapped() -> None:
    long = "word " * 80
    assert len(shorten(long)) <= 180
    assert all(len(line) <= LINE_CHARS for line in wrap(shorten(long)).split("\n"))
    analysis = analyze("Kites", "Here are the key properties of kites:\n\n" + PYTHAGORAS)
    assert all(not s.endswith(":") for s in analysis.statements)


def test_definitions_become_sentences() -> None:
    assert analyze("f", "a function with a unique output value").statements == (
        "A function with a unique output value.",
    )
    assert analyze("pH", "pH is a measure of acidity in water.").statements == (
        "pH is a measure of acidity in water.",
    )


@pytest.mark.parametrize(
    ("topic", "context", "kind"),
    [
        ("The Pythagorean Theorem", "", "triangle"),
        ("Trigonometry basics", "sine and cosine of an angle", "triangle"),
        ("Area of a circle", "The radius r determines the area.", "circle"),
        ("Pascal's Principle", "Pressure applied to a fluid acts in every direction.", None),
        ("Gravitational Force", "A force between two masses.", None),
        ("Euler's formula", "V - E + F = 2 for every convex polyhedron.", None),
        ("Euler's formula", "e^(ix) = cos x + i sin x links complex numbers to angles.", "circle"),
        ("Derivative", "The slope of the tangent line is the rate of change.", "axes_plot"),
        ("Newton's Second Law", "Net force equals mass times acceleration.", "vectors"),
        ("Breadth-first search", "BFS visits every node of a graph level by level.", "graph_nodes"),
        ("Bubble Sort", "A simple sorting algorithm.", "bars"),
        ("The Octet Rule", "Atoms share electrons to fill the outer shell.", "atom"),
        ("Ultrasound", "Sound waves of high frequency.", "wave"),
        ("De Morgan's Laws", "NOT (A AND B) equals (NOT A) OR (NOT B).", None),
    ],
)
def test_fitting_diagram(topic: str, context: str, kind: str | None) -> None:
    rule = fitting_diagram(topic, context)
    assert (rule.kind if rule else None) == kind


@pytest.mark.parametrize(
    ("topic", "context"),
    [
        ("The Pythagorean Theorem", PYTHAGORAS),
        ("Permutation", "The number of ways a set can be arranged in order."),
        ("Empty", ""),
        ("", "   "),
        ("Odd chars {}%$#_\\", "Quotes \"double\" and 'single' and \\ backslash = $5 & 10%."),
    ],
)
async def test_outline_has_a_budgeted_number_of_unique_scenes(topic: str, context: str) -> None:
    scenes = await scenes_for(topic, context)
    assert 3 <= len(scenes) <= DEFAULT_BUDGET.max_scenes
    names = [plan.class_name for plan, _ in scenes]
    assert len(set(names)) == len(names)
    assert scenes[0][0].kind == "intro" and scenes[-1][0].kind == "summary"
    for plan, code in scenes:
        assert plan.class_name.isidentifier()
        assert plan.storyboard and plan.technical_plan and plan.narration
        check_module(code, plan.class_name)


async def test_pythagoras_gets_formula_and_triangle() -> None:
    scenes = await scenes_for("The Pythagorean Theorem", PYTHAGORAS)
    kinds = [plan.kind for plan, _ in scenes]
    # the default budget has room for each of the two statements to get a scene
    assert kinds == ["intro", "statement", "statement", "formula", "diagram", "summary"]
    formula_plan, formula_code = scenes[3]
    assert formula_plan.formulas == ["a² + b² = c²"]
    assert "MathTex('a^{2} + b^{2} = c^{2}'" in formula_code
    assert scenes[4][0].diagram == "triangle"
    assert "MathTex" not in "".join(code for plan, code in scenes if plan.kind != "formula")


async def test_output_is_deterministic() -> None:
    first = await scenes_for("Ohm's Law", "The formula is V = IR. It is linear.")
    second = await scenes_for("Ohm's Law", "The formula is V = IR. It is linear.")
    assert first == second


async def test_repair_drops_latex_on_tex_errors_and_diagrams_otherwise() -> None:
    model: SceneCoder = BuiltinCoder()
    assert model.name == "builtin"
    scenes = await scenes_for("The Pythagorean Theorem", PYTHAGORAS)
    formula_plan, formula_code = scenes[3]
    tex_error = "ValueError: latex error converting to dvi. See log output above."
    repaired = await model.repair_code(formula_plan, code=formula_code, error=tex_error)
    assert "MathTex" not in repaired and "a² + b² = c²" in repaired
    check_module(repaired, formula_plan.class_name)

    diagram_plan, diagram_code = scenes[4]
    error = "Traceback ...\nAttributeError: 'Polygon' object has no attribute 'foo'"
    repaired = await model.repair_code(diagram_plan, code=diagram_code, error=error)
    assert "Polygon" not in repaired and "MathTex" not in repaired
    check_module(repaired, diagram_plan.class_name)


async def test_repair_handles_foreign_plans() -> None:
    plan = ScenePlan(
        number=7,
        title="An LLM scene",
        kind="example",
        class_name="not a name",
        storyboard="",
        technical_plan="",
        narration="First we do this. Then we do that.",
    )
    code = await BuiltinCoder().repair_code(plan, code="broken", error="SyntaxError")
    check_module(code, "Scene07")


async def test_all_bundled_topics_produce_valid_scenes() -> None:
    topics = all_topics()
    assert len(topics) == 80
    for topic, context in topics:
        scenes = await scenes_for(topic, context)
        assert 3 <= len(scenes) <= DEFAULT_BUDGET.max_scenes, topic
        names = [plan.class_name for plan, _ in scenes]
        assert len(set(names)) == len(names), topic
        for plan, code in scenes:
            check_module(code, plan.class_name)


async def test_formula_scene_renders_with_manim(tmp_path: Path) -> None:
    scenes = await scenes_for("The Pythagorean Theorem", PYTHAGORAS)
    plan, code = scenes[2]
    (tmp_path / "scene.py").write_text(code, encoding="utf-8")
    command = [sys.executable, "-m", "manim", "-ql", "--disable_caching"]
    command += ["--media_dir", str(tmp_path / "media"), "-o", "out", "scene.py", plan.class_name]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "media").rglob("out.mp4"))


async def scenes_at(topic: str, context: str, minutes: float) -> list[ScenePlan]:
    planner: Planner = BuiltinPlanner()
    budget = scene_budget(minutes)
    outline = await planner.outline(topic=topic, context=context, budget=budget)
    return [
        await planner.plan_scene(
            topic=topic, context=context, outline=outline, number=s.number, budget=budget
        )
        for s in outline.scenes
    ]


async def test_a_longer_target_gets_more_scenes_and_more_to_say() -> None:
    kites = find_topic("Properties of Kites")
    short, long = [await scenes_at(kites.topic, kites.context, m) for m in (1, 3)]
    assert len(short) == scene_budget(1).scenes + 1  # intro, key ideas, formula?, kite, summary
    assert len(long) > len(short)
    words = [sum(len(p.narration.split()) for p in plans) for plans in (short, long)]
    assert words[1] > 2.5 * words[0]
    assert max(len(p.beats) for p in long) > max(len(p.beats) for p in short)


@pytest.mark.parametrize("minutes", [0.5, 3, 10])
async def test_every_topic_at_every_length_plans_beats_the_code_can_follow(minutes: float) -> None:
    coder = BuiltinCoder()
    for topic in load_topics():
        plans = await scenes_at(topic.topic, topic.context, minutes)
        assert 3 <= len(plans) <= scene_budget(minutes).max_scenes, topic.topic
        for plan in plans:
            assert plan.beats and plan.objects, (topic.topic, plan.number)
            assert plan.narration == " ".join(b.narration for b in plan.beats)
            assert all(
                len(b.narration.split()) >= 3 and len(b.narration) <= MAX_BEAT_CHARS
                for b in plan.beats
            ), (topic.topic, plan.number)
            names = {o.name for o in plan.objects}
            for beat in plan.beats:
                assert all(any(n in a for n in names) for a in beat.animations), beat
            code = await coder.write_code(plan)
            check_module(code, plan.class_name)
            if plan.kind in ("statement", "summary"):  # one row per beat, in step
                assert code.count("FadeIn(rows[") == len(plan.beats) == len(plan.statements)
