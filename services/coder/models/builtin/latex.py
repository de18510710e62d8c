"""Formulas as LaTeX for `MathTex`: the built-in coder's spelling of plain-text math.

A formula the planner found in the description ("a² + b² = c²") becomes MathTex source
(`a^{2}+b^{2}=c^{2}`); what cannot be converted falls back to escaped `\\text{}`.
"""

from __future__ import annotations

import re

from shared.plaintext import FUNCTION_NAMES, Tok, formula_tokens

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
_SYMBOLS = {
    "×": r"\times ",
    "·": r"\cdot ",
    "*": r"\cdot ",
    "±": r"\pm ",
    "∓": r"\mp ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "≈": r"\approx ",
    "∞": r"\infty ",
    "∑": r"\sum ",
    "∫": r"\int ",
    "∂": r"\partial ",
    "−": "-",
    "→": r"\to ",
    "<=": r"\le ",
    ">=": r"\ge ",
    "!=": r"\ne ",
    "==": "=",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "~": r"\sim ",
}
_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "Γ": "Gamma",
    "Δ": "Delta",
    "Θ": "Theta",
    "Λ": "Lambda",
    "Ξ": "Xi",
    "Π": "Pi",
    "Σ": "Sigma",
    "Φ": "Phi",
    "Ψ": "Psi",
    "Ω": "Omega",
}
_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}


def escape_latex_text(text: str) -> str:
    """Escape LaTeX specials in plain (non-math) text."""
    return "".join(_TEXT_SPECIALS.get(ch, ch) for ch in text)


def _word_to_latex(word: str) -> str:
    """Split a word into name, subscript and unicode scripts, then spell it in LaTeX."""
    sup = "".join(_SUPERSCRIPTS[c] for c in word if c in _SUPERSCRIPTS)
    sub = "".join(_SUBSCRIPTS[c] for c in word if c in _SUBSCRIPTS)
    core = "".join(c for c in word if c not in _SUPERSCRIPTS and c not in _SUBSCRIPTS)
    name, _, underscore = core.partition("_")
    if not sub and underscore:
        sub = underscore
    match = re.fullmatch(r"([A-Za-z])(\d+)", name)
    if match and not sub:
        name, sub = match.groups()
    out = _name_to_latex(name)
    if sub:
        sub_tex = sub if len(sub) == 1 or sub.isdigit() else rf"\text{{{escape_latex_text(sub)}}}"
        out += f"_{{{sub_tex}}}"
    if sup:
        out += f"^{{{sup}}}"
    return out


def _name_to_latex(name: str) -> str:
    if name.lower() in FUNCTION_NAMES and name.lower() != "sqrt":
        return "\\" + name.lower() + " "
    if any(c in _GREEK for c in name):
        return "".join(f"\\{_GREEK[c]} " if c in _GREEK else c for c in name)
    if len(name) >= 3 and (name.islower() or name.istitle()):
        return rf"\text{{{name}}}"
    return name


def _group_end(tokens: list[Tok], start: int) -> int:
    """Index of the bracket closing the one at `start` (or the last token)."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += (tokens[i].kind == "open") - (tokens[i].kind == "close")
        if depth == 0:
            return i
    return len(tokens) - 1


def _script_argument(tokens: list[Tok], i: int) -> tuple[str, int]:
    """The operand after ^, _ or √: a bracket group (brackets dropped) or one token."""
    while i < len(tokens) and tokens[i].kind == "space":
        i += 1
    if i >= len(tokens):
        return "", i
    if tokens[i].kind == "open":
        end = _group_end(tokens, i)
        return _convert(tokens[i + 1 : end]), end + 1
    if tokens[i].text in "-+−" and i + 1 < len(tokens):
        inner, nxt = _script_argument(tokens, i + 1)
        return ("-" if tokens[i].text != "+" else "+") + inner, nxt
    return _convert(tokens[i : i + 1]), i + 1


def _convert(tokens: list[Tok]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.text in ("^", "_"):
            arg, i = _script_argument(tokens, i + 1)
            out.append(f"{tok.text}{{{arg}}}")
            continue
        if tok.text == "√":
            arg, i = _script_argument(tokens, i + 1)
            out.append(rf"\sqrt{{{arg}}}")
            continue
        if tok.kind == "word" and tok.text.lower() == "sqrt":
            arg, i = _script_argument(tokens, i + 1)
            out.append(rf"\sqrt{{{arg}}}")
            continue
        if tok.kind == "word" or tok.kind == "num":
            out.append(_word_to_latex(tok.text))
        elif tok.kind == "open":
            out.append(r"\{" if tok.text == "{" else tok.text)
        elif tok.kind == "close":
            out.append(r"\}" if tok.text == "}" else tok.text)
        elif tok.kind == "space":
            out.append(" ")
        elif tok.text in _SYMBOLS:
            out.append(_SYMBOLS[tok.text])
        elif tok.text in _GREEK:
            out.append(f"\\{_GREEK[tok.text]} ")
        elif tok.text.isascii() and tok.text not in "\\":
            out.append(tok.text)
        else:
            raise ValueError(f"no LaTeX for {tok.text!r}")
        i += 1
    return "".join(out)


def to_latex(formula: str) -> str:
    """Convert a plain-text formula to MathTex source; falls back to escaped \\text{}."""
    try:
        latex = re.sub(r"\s+", " ", _convert(formula_tokens(formula.strip()))).strip()
    except ValueError:
        latex = ""
    if not latex or not _braces_balanced(latex) or not latex.isascii():
        ascii_text = formula.encode("ascii", "ignore").decode() or "formula"
        return rf"\text{{{escape_latex_text(ascii_text)}}}"
    return latex


def _braces_balanced(latex: str) -> bool:
    depth = 0
    for i, ch in enumerate(latex):
        if ch in "{}" and i and latex[i - 1] == "\\":
            continue
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0
