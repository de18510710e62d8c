"""Text analysis for the built-in planner: key statements, formulas and a diagram kind.

Everything here is plain, deterministic string work so the offline model gives the
same video for the same topic and context, with no network and no randomness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.plaintext import FUNCTION_NAMES, Tok, clean_text, formula_tokens, split_sentences

MAX_STATEMENT_CHARS = 180  # about three displayed lines; longer sentences are cut
MAX_STATEMENTS = 6
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


# --- diagram kind -----------------------------------------------------------------

# A keyword ending in "*" is a prefix ("pythagor*" matches "Pythagorean").
DIAGRAM_KEYWORDS: dict[str, tuple[str, ...]] = {
    "triangle": (
        "pythagor*",
        "triangle",
        "trigonometr*",
        "hypotenuse",
        "right angle",
        "kite",
        "quadrilateral",
    ),
    "circle": (
        "circle",
        "radius",
        "diameter",
        "circumference",
        "rotat*",
        "unit circle",
        "complex number",
        "complex exponential",
        "euler",
        "centrifugal",
    ),
    "axes_plot": (
        "function",
        "derivative",
        "integral",
        "limit",
        "graph of",
        "slope",
        "rate",
        "exponent*",
        "polynomial",
        "parabola",
        "proportional",
        "pressure",
        "volume",
        "temperature",
        "conic",
        "curve",
        "spring",
        "big o",
        "asymptotic",
    ),
    "vectors": (
        "force",
        "vector",
        "velocity",
        "momentum",
        "accelerat*",
        "torque",
        "motion",
        "kinetic",
        "right hand rule",
        "right-hand rule",
    ),
    "graph_nodes": (
        "graph theory",
        "tree",
        "network",
        "bfs",
        "dfs",
        "breadth-first",
        "depth-first",
        "linked list",
        "node",
        "vertex",
        "vertices",
        "huffman",
        "deadlock",
    ),
    "bars": (
        "sorting",
        "sort",
        "array",
        "algorithm",
        "complexity",
        "probability",
        "distribution",
        "histogram",
        "search",
        "hash",
        "pigeon*",
        "encoding",
        "memory",
        "clustering",
        "sequence",
        "hamming",
        "bit",
    ),
    "atom": (
        "atom",
        "atomic",
        "electron",
        "molecule",
        "bond",
        "bonding",
        "chemical",
        "ion",
        "ionic",
        "orbital",
        "octet",
        "element",
        "noble gas",
        "metal",
        "oxidation",
        "compound",
        "particle",
        "mole",
    ),
    "wave": (
        "wave",
        "oscillat*",
        "frequency",
        "light",
        "sound",
        "wavelength",
        "signal",
        "ultrasound",
        "spectrum",
        "refraction",
    ),
}


def keyword_hits(text: str, keyword: str) -> int:
    """Count whole-word (plural-tolerant) or prefix matches of a keyword in lower text."""
    if keyword.endswith("*"):
        pattern = r"\b" + re.escape(keyword[:-1])
    else:
        pattern = r"\b" + re.escape(keyword) + r"(?:s|es)?\b"
    return len(re.findall(pattern, text))


def choose_diagram(topic: str, context: str) -> str | None:
    """Pick the diagram kind whose keywords best match; the topic counts three times."""
    topic_l, context_l = topic.lower(), context.lower()
    best, best_score = None, 0
    for kind, keywords in DIAGRAM_KEYWORDS.items():
        score = sum(3 * keyword_hits(topic_l, k) + keyword_hits(context_l, k) for k in keywords)
        if score > best_score:
            best, best_score = kind, score
    return best


# Diagram variants: the first whose keywords match wins; the last is the default.
DIAGRAM_VARIANTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "triangle": (
        ("kite", ("kite", "quadrilateral")),
        ("similar", ("similar",)),
        ("congruent", ("congruent",)),
        ("general", ("inequality", "heron")),
        ("right", ()),
    ),
    "circle": (("complex", ("complex", "euler", "moivre", "imaginary")), ("plain", ())),
    "axes_plot": (
        ("inverse", ("inverse-square", "pv", "boyle")),
        ("line", ("proportional", "linear*", "ohm", "hooke", "charles", "spring", "gay-lussac")),
        ("exp", ("exponent*", "growth")),
        ("parabola", ()),
    ),
    "vectors": (("torque", ("torque", "lever")), ("force", ())),
    "graph_nodes": (
        ("tree", ("tree", "huffman", "heap")),
        ("list", ("linked list",)),
        ("cycle", ("deadlock", "cycle", "circular")),
        ("graph", ()),
    ),
    "bars": (
        ("sort", ("sort", "sorting")),
        ("search", ("search", "searching")),
        ("geometric", ("geometric",)),
        ("arithmetic", ("arithmetic", "sequence")),
        ("plain", ()),
    ),
    "atom": (("full", ("octet", "noble gas", "full outer")), ("plain", ())),
    "wave": (("plain", ()),),
}

DIAGRAM_CAPTIONS: dict[str, str] = {
    "triangle/kite": "Two pairs of equal adjacent sides; diagonals meet at right angles.",
    "triangle/similar": "Corresponding angles are equal and sides keep the same ratio.",
    "triangle/congruent": "Same angles and same side lengths: one triangle fits on the other.",
    "triangle/general": "Three points A, B, C joined by sides a, b and c.",
    "triangle/right": "Legs a and b meet at a right angle; c is the hypotenuse.",
    "circle/complex": "A point on the unit circle: cos θ + i·sin θ.",
    "circle/plain": "A radius r sweeping out an angle θ about the centre.",
    "axes_plot/inverse": "As one quantity grows the other shrinks: P is proportional to 1/V.",
    "axes_plot/line": "A straight line through the origin: y = k·x.",
    "axes_plot/exp": "Exponential growth: every step multiplies by the same factor.",
    "axes_plot/parabola": "A curve y = f(x) and the slope of its tangent line.",
    "vectors/torque": "A force F applied at distance r from the pivot turns the lever.",
    "vectors/force": "A net force F on a mass m gives it an acceleration a.",
    "graph_nodes/tree": "A binary tree: each node links to at most two children.",
    "graph_nodes/list": "Each node stores a value and a link to the next node.",
    "graph_nodes/cycle": "Each process waits for the next one: a cycle that never ends.",
    "graph_nodes/graph": "Nodes joined by edges, visited in breadth-first order from A.",
    "bars/sort": "Values drawn as bars, then rearranged in increasing order.",
    "bars/search": "Checking the elements one by one until the target is found.",
    "bars/geometric": "Each term doubles the one before: 1, 2, 4, 8, 16.",
    "bars/arithmetic": "Each term adds the same difference: 2, 4, 6, 8, 10, 12.",
    "bars/plain": "Values drawn as bars; the largest one stands out.",
    "atom/full": "A nucleus with a full outer shell of eight electrons.",
    "atom/plain": "Electrons move around the nucleus in shells.",
    "wave/plain": "A travelling wave, with its wavelength λ and amplitude.",
}


def diagram_variant(kind: str, text: str) -> str:
    """Which drawing of a kind fits `text`: the first whose keywords match, else the last.

    The plan carries the answer as `diagram_variant`, so the coder never reads it back
    out of the plan's prose.
    """
    variants = DIAGRAM_VARIANTS.get(kind, (("plain", ()),))
    lower = text.lower()
    for name, keywords in variants:
        if any(keyword_hits(lower, k) for k in keywords):
            return name
    return variants[-1][0]


# --- everything the planner needs ---------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """What the outline and scene plans are built from."""

    topic: str
    statements: tuple[str, ...]
    formulas: tuple[str, ...]
    formula_note: str
    diagram: str | None


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
        diagram=choose_diagram(topic, context),
    )
