"""Text analysis for the built-in planner: key statements, formulas and a diagram kind.

Everything here is plain, deterministic string work so the offline model gives the
same video for the same topic and context, with no network and no randomness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.plaintext import FUNCTION_NAMES, Tok, clean_text, formula_tokens, split_sentences

MAX_STATEMENT_CHARS = 180  # about three displayed lines; longer sentences are cut
MAX_STATEMENTS = 40  # the budget decides how many a video uses
MAX_FORMULAS = 2


def shorten(text: str, limit: int = MAX_STATEMENT_CHARS) -> str:
    """Cut so a statement fits a few screen lines: at a clause break if one is late
    enough, else at a word boundary."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    clause = max(cut.rfind(mark) for mark in (", ", "; ", ": ", " (", " — "))
    cut = cut[:clause] if clause >= limit * 0.6 else cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:-( ") + "…"


def _as_sentence(text: str) -> str:
    """Definitions often start lower-case with no full stop ("a function for which ...")."""
    first = text.split(" ", 1)[0]
    if first.islower() and first.isalpha():
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…)\"'" else text + "."


def key_statements(context: str, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Sentences worth showing: not lead-ins ending in ':', not bare formulas, not tiny."""
    chosen: list[str] = []
    for sentence in split_sentences(context):
        if sentence.endswith(":") or len(sentence.split()) < 4:
            continue
        if any(_compact(sentence) == _compact(f) for f in exclude):
            continue
        statement = shorten(_as_sentence(sentence))
        if statement not in chosen:
            chosen.append(statement)
        if len(chosen) == MAX_STATEMENTS:
            break
    return chosen


# --- formulas -------------------------------------------------------------------

_STOP_WORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "for",
        "from",
        "given",
        "has",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "no",
        "not",
        "of",
        "on",
        "or",
        "so",
        "such",
        "that",
        "the",
        "then",
        "this",
        "to",
        "we",
        "when",
        "where",
        "which",
        "while",
        "with",
    )
)


def _is_math_word(word: str) -> bool:
    """Short symbols (a, PV, nRT, F_net, d1) are math; ordinary English words are not."""
    base = word.rstrip("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉⁻⁺")
    if "_" in base or base != word or len(base) == 1:
        return True
    if base.lower() in FUNCTION_NAMES:
        return True
    if base.lower() in _STOP_WORDS:
        return False
    return len(base) <= 2 or (len(base) <= 4 and any(c.isupper() for c in base))


def _is_math(tok: Tok, depth: int) -> bool:
    if tok.kind in ("space", "num", "rel", "op", "open", "close"):
        return True
    if tok.kind == "word":
        return _is_math_word(tok.text)
    return tok.text == "," and depth > 0


def _walk(tokens: list[Tok], start: int, step: int) -> int:
    """Extend from a relation sign while tokens look like math; return the last index."""
    depth, last, i = 0, start, start + step
    while 0 <= i < len(tokens) and _is_math(tokens[i], depth):
        tok = tokens[i]
        if tok.kind == "open":
            depth += step
        elif tok.kind == "close":
            depth -= step
        if depth < 0:
            break
        if tok.kind != "space":
            last = i
        i += step
    return last


def _trim(expr: str) -> str:
    """Strip dangling operators, punctuation and unbalanced or wrapping brackets."""
    expr = expr.strip().strip(".,;:*·").strip()
    while True:
        before = expr
        while expr.count("(") > expr.count(")") and expr.startswith("("):
            expr = expr[1:].strip()
        while expr.count(")") > expr.count("(") and expr.endswith(")"):
            expr = expr[:-1].strip()
        if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
            expr = expr[1:-1].strip()
        expr = expr.strip(".,;:*+·").strip()
        if expr == before:
            return expr


def _balanced(expr: str) -> bool:
    depth = 0
    for ch in expr:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip(".")


def _candidates(line: str) -> list[str]:
    tokens = formula_tokens(line)
    found: list[str] = []
    covered = -1
    for i, tok in enumerate(tokens):
        if tok.kind != "rel" or i <= covered:
            continue
        left, right = _walk(tokens, i, -1), _walk(tokens, i, 1)
        covered = right
        expr = _trim("".join(t.text for t in tokens[left : right + 1]))
        sides = re.split(r"!=|>=|<=|==|[=≠≤≥≈<>]", expr)
        if len(sides) >= 2 and all(s.strip() for s in sides) and _balanced(expr):
            found.append(expr)
    return found


def detect_formulas(context: str) -> list[str]:
    """Find up to two formulas (equations or inequalities) in the context, in text order.

    Formulas on a line of their own win, then longer ones; a formula much shorter than
    the best one (like "r != 1" beside a sum formula) is dropped as a side condition.
    """
    scored: list[tuple[int, int, str]] = []
    position = 0
    for line in clean_text(context).split("\n"):
        for expr in _candidates(line):
            standalone = _compact(expr) == _compact(line)
            weight = len(_compact(expr)) + (100 if standalone else 0)
            if all(_compact(expr) != _compact(s[2]) for s in scored):
                scored.append((weight, position, expr))
            position += 1
    if not scored:
        return []
    best = max(scored, key=lambda s: (s[0], -s[1]))
    keep = [s for s in scored if len(_compact(s[2])) * 5 >= len(_compact(best[2])) * 2]
    keep = sorted(keep, key=lambda s: (-s[0], s[1]))[:MAX_FORMULAS]
    return [s[2] for s in sorted(keep, key=lambda s: s[1])]


def standalone_formula_lines(context: str, formulas: tuple[str, ...]) -> tuple[str, ...]:
    """Formulas written on a line of their own, so they are not repeated as prose."""
    lines = {_compact(line) for line in clean_text(context).split("\n")}
    return tuple(f for f in formulas if _compact(f) in lines)


# --- diagrams: drawn only where one fits ---------------------------------------------


@dataclass(frozen=True)
class DiagramRule:
    """A drawing and the topics it fits: it depicts exactly what these words name.

    Rules match the topic (the title of the video), not words in passing in its context:
    "pressure" in a context does not make Pascal's principle a P-V curve, nor does
    "force" make Coulomb's law a block pushed along the ground. A topic that no rule
    fits gets no diagram (text and formula scenes only), never a generic picture.
    """

    kind: str
    variant: str
    topics: tuple[str, ...]  # whole words or phrases; "*" ends a prefix ("pythagor*")
    caption: str
    notes: tuple[str, ...]  # what the narrator says about the drawing, beat by beat
    requires: tuple[str, ...] = ()  # the context must name one of these (an ambiguous title)


DIAGRAM_RULES: tuple[DiagramRule, ...] = (
    DiagramRule(
        "triangle",
        "kite",
        ("kite",),
        "Two pairs of equal adjacent sides; diagonals meet at right angles.",
        (
            "Sides a meet at the top, sides b at the bottom.",
            "The dashed diagonals cross at 90 degrees.",
        ),
    ),
    DiagramRule(
        "triangle",
        "similar",
        ("similar triangle", "similarity"),
        "Corresponding angles are equal and sides keep the same ratio.",
        ("The second triangle is the first one scaled up.", "Its angles do not change."),
    ),
    DiagramRule(
        "triangle",
        "congruent",
        ("congruent triangle", "congruence"),
        "Same angles and same side lengths: one triangle fits on the other.",
        ("The copy moves without stretching.", "Every side and angle matches its partner."),
    ),
    DiagramRule(
        "triangle",
        "general",
        ("triangle inequality", "heron*"),
        "Three points A, B, C joined by sides a, b and c.",
        ("Each side is named after the corner opposite it.",),
    ),
    DiagramRule(
        "triangle",
        "right",
        ("pythagor*", "hypotenuse", "right triangle", "right-angled triangle", "trigonometr*"),
        "Legs a and b meet at a right angle; c is the hypotenuse.",
        (
            "The two shorter sides, a and b, are the legs.",
            "The longest side, c, is opposite the right angle.",
        ),
    ),
    DiagramRule(
        "circle",
        "complex",
        ("de moivre*", "euler's formula", "complex exponential", "unit circle"),
        "A point on the unit circle: cos θ + i·sin θ.",
        ("The horizontal axis is the real part, the vertical one the imaginary part.",),
        requires=("complex", "imaginary"),  # Euler's formula may be V - E + F = 2
    ),
    DiagramRule(
        "circle",
        "plain",
        (
            "angle of rotation",
            "radian*",
            "circle",
            "circumference",
            "circular motion",
            "centrifugal",
            "centripetal",
        ),
        "A radius r sweeping out an angle θ about the centre.",
        ("The arm turns about the centre; the angle it sweeps is θ.",),
    ),
    DiagramRule(
        "axes_plot",
        "inverse",
        ("boyle*", "pv diagram", "inverse proportion*", "inversely proportional"),
        "As one quantity grows the other shrinks: P is proportional to 1/V.",
        ("Double the volume and the pressure halves.",),
    ),
    DiagramRule(
        "axes_plot",
        "line",
        ("ohm's law", "hooke's law", "charles's law", "gay-lussac*", "direct proportion*"),
        "A straight line through the origin: y = k·x.",
        ("Double one quantity and the other doubles too.",),
    ),
    DiagramRule(
        "axes_plot",
        "exp",
        ("exponential growth", "exponential decay", "exponential function"),
        "Exponential growth: every step multiplies by the same factor.",
        ("Each step to the right multiplies the height by the same factor.",),
    ),
    DiagramRule(
        "axes_plot",
        "parabola",
        ("derivative*", "tangent line", "slope of a curve", "differentiation"),
        "A curve y = f(x) and the slope of its tangent line.",
        ("The red line touches the curve at one point; its slope is the derivative there.",),
    ),
    DiagramRule(
        "vectors",
        "torque",
        ("torque", "lever*", "moment of force"),
        "A force F applied at distance r from the pivot turns the lever.",
        ("The farther from the pivot the force acts, the stronger it turns.",),
    ),
    DiagramRule(
        "vectors",
        "force",
        ("newton's second law", "net force", "f = ma"),
        "A net force F on a mass m gives it an acceleration a.",
        ("The acceleration points the same way as the net force.",),
    ),
    DiagramRule(
        "graph_nodes",
        "tree",
        ("binary tree", "huffman", "heap", "binary search tree"),
        "A binary tree: each node links to at most two children.",
        ("The root is at the top; each level below can hold twice as many nodes.",),
    ),
    DiagramRule(
        "graph_nodes",
        "list",
        ("linked list",),
        "Each node stores a value and a link to the next node.",
        ("The last node links to null: the end of the list.",),
    ),
    DiagramRule(
        "graph_nodes",
        "cycle",
        ("deadlock*",),
        "Each process waits for the next one: a cycle that never ends.",
        ("No process in the cycle can go on, so none ever does.",),
    ),
    DiagramRule(
        "graph_nodes",
        "graph",
        ("breadth-first", "bfs", "graph traversal"),
        "Nodes joined by edges, visited in breadth-first order from A.",
        ("Nodes light up in the order a breadth-first search reaches them.",),
    ),
    DiagramRule(
        "bars",
        "sort",
        ("sort*",),
        "Values drawn as bars, then rearranged in increasing order.",
        ("Each bar's height is its value; sorted, they rise from left to right.",),
    ),
    DiagramRule(
        "bars",
        "search",
        ("linear search", "sequential search"),
        "Checking the elements one by one until the target is found.",
        ("Red bars were checked and were not the target; the green one is.",),
    ),
    DiagramRule(
        "bars",
        "geometric",
        ("geometric sequence", "geometric progression", "geometric series"),
        "Each term doubles the one before: 1, 2, 4, 8, 16.",
        ("Here the common ratio is two.",),
    ),
    DiagramRule(
        "bars",
        "arithmetic",
        ("arithmetic sequence", "arithmetic progression", "arithmetic series"),
        "Each term adds the same difference: 2, 4, 6, 8, 10, 12.",
        ("Here the common difference is two.",),
    ),
    DiagramRule(
        "atom",
        "full",
        ("octet*", "noble gas*"),
        "A nucleus with a full outer shell of eight electrons.",
        ("Eight electrons fill the outer shell: a stable arrangement.",),
    ),
    DiagramRule(
        "atom",
        "plain",
        ("aufbau", "electron shell*", "bohr model", "electron configuration"),
        "Electrons fill the shells around the nucleus, inner shells first.",
        ("The inner shell fills before the outer one.",),
    ),
    DiagramRule(
        "wave",
        "plain",
        ("wavelength*", "ultrasound", "sound wave*", "wave", "waves"),
        "A travelling wave, with its wavelength λ and amplitude.",
        ("The wavelength is the distance from one crest to the next.",),
    ),
)


def keyword_hits(text: str, keyword: str) -> int:
    """Count whole-word (plural-tolerant) or prefix matches of a keyword in lower text."""
    if keyword.endswith("*"):
        pattern = r"\b" + re.escape(keyword[:-1])
    else:
        pattern = r"\b" + re.escape(keyword) + r"(?:s|es)?\b"
    return len(re.findall(pattern, text))


def fitting_diagram(topic: str, context: str = "") -> DiagramRule | None:
    """The first rule whose words the topic names (rules go from specific to broad)."""
    lower, about = topic.lower().replace("’", "'"), context.lower()
    for rule in DIAGRAM_RULES:
        if any(keyword_hits(lower, k) for k in rule.topics) and (
            not rule.requires or any(keyword_hits(about, k) for k in rule.requires)
        ):
            return rule
    return None


# --- everything the planner needs ---------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """What the outline and scene plans are built from."""

    topic: str
    statements: tuple[str, ...]
    formulas: tuple[str, ...]
    formula_note: str
    diagram: DiagramRule | None  # None: no drawing fits this topic


def clean_topic(topic: str) -> str:
    """One short line for the title; a blank topic still gets a title."""
    return shorten(" ".join(clean_text(topic).split()), 80) or "Untitled topic"


def _formula_note(context: str, formula: str) -> str:
    """The sentence that explains a formula: the one holding it, or the next if bare."""
    sentences = split_sentences(context)
    target = _compact(formula)
    for i, sentence in enumerate(sentences):
        if target in _compact(sentence):
            if _compact(sentence) == target and i + 1 < len(sentences):
                return shorten(sentences[i + 1], 120)
            return shorten(sentence, 120)
    return ""


def analyze(topic: str, context: str) -> Analysis:
    """Run every analysis once; the result is a pure function of topic and context."""
    title = clean_topic(topic)
    formulas = tuple(detect_formulas(context))
    statements = key_statements(context, exclude=standalone_formula_lines(context, formulas))
    if not statements:
        short = shorten(" ".join(clean_text(context).split()))
        statements = [short] if short else [f"This video gives a short overview of {title}."]
    return Analysis(
        topic=title,
        statements=tuple(statements),
        formulas=formulas,
        formula_note=_formula_note(context, formulas[0]) if formulas else "",
        diagram=fitting_diagram(title, context),
    )
