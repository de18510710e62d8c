"""The dry pass's LaTeX: a placeholder at once, the real SVG compiled on another core.

A dry pass only counts animations and their durations, so a formula's shape does not
matter to it. Waiting for each formula's LaTeX (about 0.3 s apiece, one after another in
the scene's order) made the dry pass the largest part of a sliced 2D scene's critical
path. Here each formula the scene asks for gets a placeholder SVG holding the groups
MathTex looks up, while its real compile runs in a thread (latex and dvisvgm are
processes, so they run on the other cores while the scene goes on). The slices then get
every real SVG from the dry pass (:func:`services.renderer.fastforward.pack_tex`).

Placeholders have the wrong boxes, so a dry pass records no layout (the last slice does),
and its animation count only balances the slices: the last slice runs to the scene's
real end. A formula that does not compile fails the dry pass, and the scene is rendered
whole, which reports the LaTeX error where the scene made the formula.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

_GROUP_ID = re.compile(r"id='([A-Za-z0-9_]+)'")
_SPECIAL = re.compile(r"\\special\{[^}]*\}")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_MAX_WORKERS = 4
_MAX_GLYPHS = 200


@contextlib.contextmanager
def prefetching() -> Iterator[None]:
    """Placeholders for formulas inside the block; every real SVG is compiled by its end.

    Raises the first compile error after the block, as the whole render would have raised
    it (later, and at the formula's line).
    """
    import manim.mobject.text.tex_mobject as tex_mobject

    compiles: dict[Path, Future[Path]] = {}
    workers = min(len(os.sched_getaffinity(0)), _MAX_WORKERS)
    original = tex_mobject.tex_to_svg_file
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="tex") as pool:

        def placeholder_for(
            expression: str, environment: str | None = None, tex_template: Any = None
        ) -> Path:
            from manim import config
            from manim.utils.tex_file_writing import generate_tex_file

            template = tex_template if tex_template is not None else config["tex_template"]
            tex_file = generate_tex_file(expression, environment, template)
            svg = tex_file.with_suffix(".svg")
            if tex_file not in compiles:
                if svg.exists():  # from a packed cache (never one being written here)
                    return svg
                compiles[tex_file] = pool.submit(_compile, tex_file, template)
            return placeholder(tex_file.parent.parent / "placeholders", expression)

        tex_mobject.tex_to_svg_file = placeholder_for
        try:
            yield
        finally:
            tex_mobject.tex_to_svg_file = original
    for future in compiles.values():
        future.result()  # the pool has finished them all; this raises the first failure


def placeholder(folder: Path, expression: str) -> Path:
    """A small SVG: each group id the expression declares (MathTex's parts), holding one
    square per visible character, so code that indexes glyphs (``formula[0][2]``) runs."""
    ids = sorted(set(_GROUP_ID.findall(expression)))
    glyphs = min(max(len(_visible(expression)), 1), _MAX_GLYPHS)
    squares = "".join(f"<path d='M{8 * n} 0h8v8h-8z'/>" for n in range(glyphs))
    body = "".join(f"<g id='{name}'>{squares}</g>" for name in ids) or squares
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{8 * glyphs}pt' height='8pt' "
        f"viewBox='0 0 {8 * glyphs} 8'>{body}</svg>"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(svg.encode()).hexdigest()[:16]}.svg"
    if not path.exists():
        path.write_text(svg, encoding="utf-8")
    return path


def _visible(expression: str) -> str:
    """The expression without group markers, commands, braces and spaces: about as many
    characters as it has glyphs (``\\frac{a}{b}`` has 3 glyphs and 2 characters)."""
    text = _SPECIAL.sub("", expression)
    text = _COMMAND.sub("", text)
    return "".join(c for c in text if not c.isspace() and c not in "{}^_&")


def _compile(tex_file: Path, template: Any) -> Path:
    """Manim's own compile of one formula (the whole render would run the same two tools);
    its intermediate files are named by the formula's hash, so compiles do not collide."""
    from manim.utils.tex_file_writing import compile_tex, convert_to_svg

    dvi = compile_tex(tex_file, template.tex_compiler, template.output_format)
    return convert_to_svg(dvi, template.output_format)
