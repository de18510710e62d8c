"""The rewrite table: manimgl and old Manim CE idioms, and what the installed Manim CE says.

Each rule finds one idiom on the AST and yields span edits; `requires` names what its
output uses in the installed Manim (see `installed.has`), so a rule whose target is
missing is switched off instead of writing code that cannot run. The idioms come from
what LLMs actually write (manimgl's camera frame and `fix_in_frame`, removed classes,
keyword arguments of older versions) — see /work/shared/spec/facts.md.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import shared.api_rewrites.installed as installed
from shared.api_rewrites.source import (
    Edit,
    Source,
    func_name,
    is_self_path,
    keyword,
    method_name,
)

Finder = Callable[[Any, Source], Iterator[Edit]]


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str
    requires: tuple[str, ...]
    nodes: tuple[type[ast.AST], ...]
    find: Finder


# --- plain renames --------------------------------------------------------------------

RENAMES: dict[str, tuple[str, str]] = {  # old name: (new text, requirement)
    "ShowCreation": ("Create", "Create"),
    "TexMobject": ("MathTex", "MathTex"),
    "TexText": ("Tex", "Tex"),
    "OldTex": ("MathTex", "MathTex"),
    "OldTexText": ("Tex", "Tex"),
    "ParametricSurface": ("Surface", "Surface"),
    "TransformMatchingStrings": ("TransformMatchingShapes", "TransformMatchingShapes"),
    "WiggleOutThenIn": ("Wiggle", "Wiggle"),
    "VFadeIn": ("FadeIn", "FadeIn"),
    "VFadeOut": ("FadeOut", "FadeOut"),
    "FRAME_WIDTH": ("config.frame_width", "config"),
    "FRAME_HEIGHT": ("config.frame_height", "config"),
    "FRAME_X_RADIUS": ("config.frame_x_radius", "config"),
    "FRAME_Y_RADIUS": ("config.frame_y_radius", "config"),
    # Colour names of manimgl, or that models invent, with the nearest Manim CE colour.
    "GREEN_SCREEN": ("PURE_GREEN", "PURE_GREEN"),
    "DARK_GREEN": ("GREEN_E", "GREEN_E"),
    "LIGHT_BLUE": ("BLUE_B", "BLUE_B"),
    "DARK_PURPLE": ("PURPLE_E", "PURPLE_E"),
    "BLUE_GREEN": ("TEAL", "TEAL"),
}


def _renames(node: ast.Name, src: Source) -> Iterator[Edit]:
    if (
        isinstance(node.ctx, ast.Load)
        and node.id in RENAMES
        and node.id not in src.module_names
        and installed.has(RENAMES[node.id][1])
    ):
        yield src.replace(node, RENAMES[node.id][0], "rename")


def _text_mobject(node: ast.Name, src: Source) -> Iterator[Edit]:
    """TextMobject was LaTeX text: `Tex` when it needs LaTeX, else Pango's `Text`."""
    if node.id != "TextMobject" or node.id in src.module_names:
        return
    call = src.parent.get(node)
    target = "Tex"
    if isinstance(call, ast.Call) and call.func is node:
        strings = [a.value for a in call.args if isinstance(a, ast.Constant)]
        plain = (
            len(call.args) == 1
            and len(strings) == 1
            and isinstance(strings[0], str)
            and not any(c in strings[0] for c in "$\\")
            and all(
                k.arg and installed.accepts(installed._manim()["Text"], k.arg)
                for k in call.keywords
            )
        )
        target = "Text" if plain else "Tex"
    yield src.replace(node, target, "text_mobject")


# --- fades with a direction -----------------------------------------------------------

DIRECTIONS = frozenset({"UP", "DOWN", "LEFT", "RIGHT", "UL", "UR", "DL", "DR", "IN", "OUT"})
OPPOSITE = {
    "UP": "DOWN",
    "DOWN": "UP",
    "LEFT": "RIGHT",
    "RIGHT": "LEFT",
    "UL": "DR",
    "DR": "UL",
    "UR": "DL",
    "DL": "UR",
    "IN": "OUT",
    "OUT": "IN",
}


def is_direction(node: ast.AST) -> bool:
    """`UP`, `-LEFT`, `2 * RIGHT`, `UP + LEFT`: a vector made of Manim's direction constants."""
    if isinstance(node, ast.Name):
        return node.id in DIRECTIONS
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return is_direction(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add | ast.Sub | ast.Div):
        sides = (node.left, node.right)
        return any(is_direction(s) for s in sides) and all(
            is_direction(s) or isinstance(s, ast.Constant) for s in sides
        )
    return False


def _negated(node: ast.AST, src: Source) -> str:
    if isinstance(node, ast.Name) and node.id in OPPOSITE:
        return OPPOSITE[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return src.text(node.operand)
    if isinstance(node, ast.Name | ast.Attribute):
        return f"-{src.text(node)}"
    return f"-({src.text(node)})"


# old name: (new class, how the old direction argument becomes `shift`)
_DIRECTED_FADES = {
    "FadeInFrom": ("FadeIn", "from"),  # arrives *from* the direction: shift is its opposite
    "FadeInFromDown": ("FadeIn", "UP"),
    "FadeInFromUp": ("FadeIn", "DOWN"),
    "FadeOutAndShift": ("FadeOut", "to"),
    "FadeOutAndShiftDown": ("FadeOut", "DOWN"),
    "FadeOutAndShiftUp": ("FadeOut", "UP"),
}


def _directed_fades(node: ast.Call, src: Source) -> Iterator[Edit]:
    name = func_name(node)
    if name not in _DIRECTED_FADES or name in src.module_names or not node.args:
        return
    new, how = _DIRECTED_FADES[name]
    args = [src.text(node.args[0])]
    rest = [src.text(k) for k in node.keywords if k.arg != "direction"]
    if how in ("from", "to"):
        given = (
            node.args[1]
            if len(node.args) > 1
            else getattr(keyword(node, "direction"), "value", None)
        )
        if given is None:
            shift = "UP" if how == "from" else "DOWN"  # manimgl's default direction is DOWN
        else:
            shift = _negated(given, src) if how == "from" else src.text(given)
        args += [src.text(a) for a in node.args[2:]]
    else:
        shift = how
        args += [src.text(a) for a in node.args[1:]]
    yield src.replace(node, f"{new}({', '.join([*args, f'shift={shift}', *rest])})", "fade_from")


def _fade_from_large(node: ast.Call, src: Source) -> Iterator[Edit]:
    if func_name(node) != "FadeInFromLarge" or not node.args:
        return
    factor = keyword(node, "scale_factor")
    scale = (
        src.text(factor.value)
        if factor
        else (src.text(node.args[1]) if len(node.args) > 1 else "2")
    )
    rest = [src.text(k) for k in node.keywords if k.arg != "scale_factor"]
    yield src.replace(
        node,
        f"FadeIn({', '.join([src.text(node.args[0]), f'scale={scale}', *rest])})",
        "fade_from_large",
    )


def _fade_positional_direction(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`FadeIn(m, UP)`: the direction of older versions is `shift=` now."""
    if func_name(node) not in ("FadeIn", "FadeOut") or len(node.args) != 2:
        return
    if not is_direction(node.args[1]) or keyword(node, "shift"):
        return
    parts = [
        src.text(node.args[0]),
        f"shift={src.text(node.args[1])}",
        *(src.text(k) for k in node.keywords),
    ]
    yield src.replace(node, f"{func_name(node)}({', '.join(parts)})", "fade_direction")


# --- animations that were removed or renamed with other arguments ---------------------

_KEEP_ANIMATION_KWARGS = frozenset({"run_time", "rate_func", "color", "lag_ratio"})


def _removed_animations(node: ast.Call, src: Source) -> Iterator[Edit]:
    name = func_name(node)
    if name in src.module_names or not node.args:
        return
    target = src.text(node.args[0])
    kwargs = [src.text(k) for k in node.keywords if k.arg in _KEEP_ANIMATION_KWARGS]
    if name == "ShowCreationThenDestruction":
        extra = [] if keyword(node, "time_width") else ["time_width=2.0"]
        new = f"ShowPassingFlash({', '.join([target, *extra, *src.call_args(node)[1:]])})"
    elif name == "ShowCreationThenFadeOut":
        new = f"Succession({', '.join([f'Create({target})', f'FadeOut({target})', *kwargs])})"
    elif name == "ShowCreationThenFadeAround":
        new = f"Circumscribe({', '.join([target, 'fade_out=True', *kwargs])})"
    elif name == "CircleIndicate":
        new = f"Circumscribe({', '.join([target, 'Circle', *kwargs])})"
    elif name == "FlashAround":
        new = f"Circumscribe({', '.join([target, *kwargs])})"
    else:
        return
    yield src.replace(node, new, "removed_animation")


def _apply_method(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`ApplyMethod(m.shift, UP, run_time=2)` → `m.animate(run_time=2).shift(UP)`."""
    if func_name(node) != "ApplyMethod" or "ApplyMethod" in src.module_names or not node.args:
        return
    method = node.args[0]
    if not isinstance(method, ast.Attribute):
        return
    args = ", ".join(src.text(a) for a in node.args[1:])
    kwargs = ", ".join(src.text(k) for k in node.keywords)
    animate = f"animate({kwargs})" if kwargs else "animate"
    yield src.replace(
        node, f"{src.text(method.value)}.{animate}.{method.attr}({args})", "apply_method"
    )


def _play_method(node: ast.Call, src: Source) -> Iterator[Edit]:
    """Old `self.play(mob.shift, UP)`: a bound method and its arguments, now `.animate`."""
    if not (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "play"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    ):
        return
    methods = installed.mobject_methods()

    def is_method(arg: ast.AST) -> bool:
        return (
            isinstance(arg, ast.Attribute)
            and arg.attr in methods
            and not (isinstance(arg.value, ast.Name) and arg.value.id == "self")
        )

    if not any(is_method(a) for a in node.args):
        return
    parts: list[str] = []
    index = 0
    while index < len(node.args):
        arg = node.args[index]
        index += 1
        if not is_method(arg):
            parts.append(src.text(arg))
            continue
        params = []
        while index < len(node.args) and not _starts_animation(node.args[index], is_method):
            params.append(src.text(node.args[index]))
            index += 1
        assert isinstance(arg, ast.Attribute)
        parts.append(f"{src.text(arg.value)}.animate.{arg.attr}({', '.join(params)})")
    parts += [src.text(k) for k in node.keywords]
    yield src.replace(node, f"self.play({', '.join(parts)})", "play_method")


def _starts_animation(arg: ast.AST, is_method: Callable[[ast.AST], bool]) -> bool:
    if is_method(arg):
        return True
    name = func_name(arg) or method_name(arg)
    return bool(name and name[:1].isupper()) or (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Attribute)
        and isinstance(arg.func.value, ast.Attribute)
        and arg.func.value.attr == "animate"
    )


_SINGLE_ANIMATIONS = frozenset(
    {
        "Write",
        "Unwrite",
        "Create",
        "Uncreate",
        "DrawBorderThenFill",
        "FadeIn",
        "FadeOut",
        "GrowFromCenter",
        "GrowArrow",
        "SpinInFromNothing",
        "ShrinkToCenter",
        "Indicate",
        "Circumscribe",
        "AddTextLetterByLetter",
        "Wiggle",
        "FocusOn",
    }
)


def _positional_run_time(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`Write(m, 2)`: the second positional parameter is not the run time in Manim CE."""
    name = func_name(node)
    if name not in _SINGLE_ANIMATIONS or len(node.args) != 2 or keyword(node, "run_time"):
        return
    seconds = node.args[1]
    if not (isinstance(seconds, ast.Constant) and type(seconds.value) in (int, float)):
        return
    parts = [
        src.text(node.args[0]),
        f"run_time={src.text(seconds)}",
        *(src.text(k) for k in node.keywords),
    ]
    yield src.replace(node, f"{name}({', '.join(parts)})", "positional_run_time")


# --- keyword arguments of older versions ----------------------------------------------

_RANGE_PREFIXES = ("x", "y", "z", "t", "u", "v")
RANGE_OWNERS = frozenset(
    {
        "Axes",
        "ThreeDAxes",
        "NumberLine",
        "NumberPlane",
        "ComplexPlane",
        "FunctionGraph",
        "ParametricFunction",
        "Surface",
        "plot",
        "plot_parametric_curve",
    }
)


def _old_ranges(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`x_min=, x_max=` (and y, z, t, u, v; NumberLine's `tick_frequency`) → `x_range=[…]`."""
    owner = func_name(node) or method_name(node)
    if owner not in RANGE_OWNERS:
        return
    changes: dict[ast.keyword, str | None] = {}
    for prefix in _RANGE_PREFIXES:
        low, high = keyword(node, f"{prefix}_min"), keyword(node, f"{prefix}_max")
        if low is None or high is None or keyword(node, f"{prefix}_range"):
            continue
        step = keyword(node, f"{prefix}_step") or (
            keyword(node, "tick_frequency") if owner == "NumberLine" and prefix == "x" else None
        )
        used = [k for k in (low, high, step) if k is not None]
        values = ", ".join(src.text(k.value) for k in used)
        changes |= {k: None for k in used} | {low: f"{prefix}_range=[{values}]"}
    if changes:
        yield src.replace(node, _rebuilt(node, src, changes), "old_ranges")


def _rebuilt(call: ast.Call, src: Source, changes: dict[ast.keyword, str | None]) -> str:
    """The call's text with some keywords replaced (text) or removed (None)."""
    parts = [src.text(a) for a in call.args]
    parts += [changes.get(k, src.text(k)) for k in call.keywords]  # type: ignore[misc]
    return f"{src.text(call.func)}({', '.join(p for p in parts if p is not None)})"


# (owner, keyword): (new keyword, requirement); None drops the keyword
KEYWORD_FIXES: dict[tuple[str, str], tuple[str | None, str]] = {
    ("Circle", "r"): ("radius", "Circle(radius)"),
    ("MathTex", "isolate"): ("substrings_to_isolate", "MathTex(substrings_to_isolate)"),
    ("Tex", "isolate"): ("substrings_to_isolate", "Tex(substrings_to_isolate)"),
    ("MathTex", "t2c"): ("tex_to_color_map", "MathTex(tex_to_color_map)"),
    ("Tex", "t2c"): ("tex_to_color_map", "Tex(tex_to_color_map)"),
    ("Text", "tex_to_color_map"): ("t2c", "Text(t2c)"),
    ("Sector", "outer_radius"): ("radius", "Sector(radius)"),
    ("Axes", "width"): ("x_length", "Axes(x_length)"),  # manimgl's Axes(width=, height=)
    ("Axes", "height"): ("y_length", "Axes(y_length)"),
    ("ThreeDAxes", "width"): ("x_length", "ThreeDAxes(x_length)"),
    ("ThreeDAxes", "height"): ("y_length", "ThreeDAxes(y_length)"),
    ("NumberPlane", "width"): ("x_length", "NumberPlane(x_length)"),
    ("NumberPlane", "height"): ("y_length", "NumberPlane(y_length)"),
    ("NumberLine", "width"): ("length", "NumberLine(length)"),
    ("Axes", "x_axis_width"): ("x_length", "Axes(x_length)"),
    ("Axes", "y_axis_height"): ("y_length", "Axes(y_length)"),
    ("NumberLine", "numbers_to_show"): ("numbers_to_include", "NumberLine(numbers_to_include)"),
    ("get_axis_labels", "x_label_tex"): ("x_label", "Axes.get_axis_labels"),
    ("get_axis_labels", "y_label_tex"): ("y_label", "Axes.get_axis_labels"),
    ("set_camera_orientation", "distance"): (
        "focal_distance",
        "ThreeDScene.set_camera_orientation",
    ),
    ("move_camera", "distance"): ("focal_distance", "ThreeDScene.move_camera"),
    ("GrowFromCenter", "scale_factor"): (None, "GrowFromCenter"),
    ("Brace", "width_multiplier"): (None, "Brace"),
    ("NumberPlane", "x_line_frequency"): (None, "NumberPlane"),
    ("NumberPlane", "y_line_frequency"): (None, "NumberPlane"),
}
_FONT_OWNERS = frozenset({"Text", "Tex", "MathTex", "MarkupText"})
DEFAULT_FONT_SIZE = 48


def _keyword_fixes(node: ast.Call, src: Source) -> Iterator[Edit]:
    owner = func_name(node) or method_name(node) or ""
    changes: dict[ast.keyword, str | None] = {}
    for kw in node.keywords:
        fix = KEYWORD_FIXES.get((owner, kw.arg or ""))
        if fix is not None and installed.has(fix[1]):
            changes[kw] = None if fix[0] is None else f"{fix[0]}={src.text(kw.value)}"
        elif owner in _FONT_OWNERS and kw.arg == "size" and not keyword(node, "font_size"):
            changes[kw] = f"font_size={_font_size(kw.value, src)}"
        elif owner == "BarChart" and kw.arg == "max_value":
            changes[kw] = None if keyword(node, "y_range") else f"y_range=[0, {src.text(kw.value)}]"
    if changes:
        yield src.replace(node, _rebuilt(node, src, changes), "keyword_fix")


def _font_size(value: ast.expr, src: Source) -> str:
    """Old `size=` was a scale factor (1 = default); a number above 8 was meant as points."""
    number = value.value if isinstance(value, ast.Constant) else None
    if isinstance(number, int | float) and not isinstance(number, bool):
        return str(number if number >= 8 else round(DEFAULT_FONT_SIZE * number, 2))
    return f"{DEFAULT_FONT_SIZE} * ({src.text(value)})"


def _get_graph(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`axes.get_graph(f)` → `axes.plot(f)` (not on `self`: GraphScene is gone entirely)."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get_graph"):
        return
    if isinstance(func.value, ast.Name) and func.value.id == "self":
        return
    start = src.span(func.value)[1]
    end = src.span(func)[1]
    yield Edit(start, end, ".plot", "get_graph", node.lineno)


def _tex_math(node: ast.Call, src: Source) -> Iterator[Edit]:
    """`Tex("x^2")`: math outside `$…$` stops LaTeX; it is what MathTex is for."""
    if func_name(node) != "Tex" or not node.args:
        return
    strings = [
        a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    if len(strings) != len(node.args):
        return
    if any("$" in s or "\\text" in s for s in strings):
        return
    if any(marker in s for s in strings for marker in _MATH_MARKERS):
        yield src.replace(node.func, "MathTex", "tex_math")


_MATH_MARKERS = (
    "^",
    "_",
    "\\frac",
    "\\sqrt",
    "\\sum",
    "\\int",
    "\\prod",
    "\\lim",
    "\\infty",
    "\\cdot",
    "\\times",
    "\\leq",
    "\\geq",
    "\\neq",
    "\\alpha",
    "\\beta",
    "\\theta",
    "\\lambda",
    "\\pi",
    "\\sigma",
    "\\omega",
    "\\partial",
    "\\nabla",
    "\\approx",
    "\\pm",
    "\\vec",
    "\\mathbb",
)


# --- CONFIG dictionaries ---------------------------------------------------------------


def _config_dict(node: ast.Assign, src: Source) -> Iterator[Edit]:
    """manimgl's `CONFIG = {"radius": 2}` class dict → class attributes `radius = 2`."""
    cls = src.parent.get(node)
    if not (
        isinstance(cls, ast.ClassDef)
        and node in cls.body
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "CONFIG"
        and isinstance(node.value, ast.Dict)
    ):
        return
    keys = node.value.keys
    if not all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.isidentifier()
        for k in keys
    ):
        return
    indent = src.indent(node)
    lines = []
    background = None
    for key, value in zip(keys, node.value.values, strict=True):
        assert isinstance(key, ast.Constant) and isinstance(key.value, str)
        lines.append(f"{key.value} = {src.text(value)}")
        if key.value == "camera_config" and isinstance(value, ast.Dict):
            background = next(
                (
                    v
                    for k, v in zip(value.keys, value.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "background_color"
                ),
                None,
            )
    has_setup = any(isinstance(s, ast.FunctionDef) and s.name == "setup" for s in cls.body)
    if background is not None and not has_setup:
        lines += [
            "",
            "def setup(self):",
            "    super().setup()",
            f"    self.camera.background_color = {src.text(background)}",
            "",
        ]
    text = f"\n{indent}".join(lines) if lines else "pass"
    yield src.replace(node, text.replace(f"\n{indent}\n", "\n\n"), "config_dict")


# --- cameras: manimgl's frame, in a ThreeDScene or a moving 2D camera ------------------

_THREE_D_IDIOMS = frozenset(
    {
        "set_euler_angles",
        "reorient",
        "increment_theta",
        "increment_phi",
        "increment_gamma",
        "fix_in_frame",
        "unfix_from_frame",
    }
)
_ORIENTATION_OPS = frozenset(
    {
        "set_euler_angles",
        "reorient",
        "set_theta",
        "set_phi",
        "set_gamma",
        "increment_theta",
        "increment_phi",
        "increment_gamma",
        "scale",
        "move_to",
    }
)
# ThreeDScene's own methods: a plain Scene calling them was meant to be a ThreeDScene.
_THREE_D_SCENE_METHODS = frozenset(
    {
        "set_camera_orientation",
        "move_camera",
        "begin_ambient_camera_rotation",
        "stop_ambient_camera_rotation",
        "add_fixed_in_frame_mobjects",
        "add_fixed_orientation_mobjects",
    }
)


def scene_kind(cls: ast.ClassDef) -> str | None:
    """ "3d", "moving" or "2d" for a scene class as Manim CE will need it; None: not a scene."""
    bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
    attributes = {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute)}
    if bases & {"ThreeDScene", "SpecialThreeDScene"}:
        return "3d"
    if bases & {"MovingCameraScene", "ZoomedScene"}:
        return "moving"
    if "Scene" not in bases:
        return None
    if attributes & _THREE_D_IDIOMS or any(
        is_self_path(n, n.attr)
        for n in ast.walk(cls)
        if isinstance(n, ast.Attribute) and n.attr in _THREE_D_SCENE_METHODS
    ):
        return "3d"
    if any(
        is_self_path(n, "camera", "frame")
        or is_self_path(n, "frame")
        or is_self_path(n, "camera", "animate")
        for n in ast.walk(cls)
    ):
        return "moving"
    return "2d"


def _scene_base(node: ast.ClassDef, src: Source) -> Iterator[Edit]:
    kind = scene_kind(node)
    base = next((b for b in node.bases if isinstance(b, ast.Name) and b.id == "Scene"), None)
    if base is None or kind not in ("3d", "moving"):
        return
    yield src.replace(base, "ThreeDScene" if kind == "3d" else "MovingCameraScene", "scene_base")


def _kind_at(node: ast.AST, src: Source) -> str | None:
    cls = src.enclosing(node, ast.ClassDef)
    if not isinstance(cls, ast.ClassDef):
        return None
    if cls not in src.kinds:
        src.kinds[cls] = scene_kind(cls)
    return src.kinds[cls]


def _frame_aliases(node: ast.AST, src: Source) -> set[str]:
    """Local names bound to manimgl's frame in the function around `node`."""
    func = src.enclosing(node, ast.FunctionDef)
    if func is None:
        return set()
    if func not in src.aliases:
        src.aliases[func] = _aliases_in(func)
    return src.aliases[func]


def _aliases_in(func: ast.AST) -> set[str]:
    return {
        s.targets[0].id
        for s in ast.walk(func)
        if isinstance(s, ast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], ast.Name)
        and _is_frame_source(s.value)
    }


def _is_frame_source(node: ast.AST) -> bool:
    return is_self_path(node, "camera", "frame") or is_self_path(node, "frame")


def _is_frame(node: ast.AST, aliases: set[str]) -> bool:
    return _is_frame_source(node) or (isinstance(node, ast.Name) and node.id in aliases)


def _orientation(call: ast.Call, src: Source) -> list[str] | None:
    """Keyword arguments of `set_camera_orientation` equal to a manimgl frame call."""
    op = method_name(call)
    args = [src.text(a) for a in call.args]
    named = {k.arg: src.text(k.value) for k in call.keywords if k.arg}
    if op == "set_euler_angles":
        values = dict(zip(("theta", "phi", "gamma"), args, strict=False)) | {
            k: v for k, v in named.items() if k in ("theta", "phi", "gamma")
        }
        units = named.get("units")
        if units and units != "RADIANS":
            values = {k: f"({v}) * {units}" for k, v in values.items()}
        return [f"{k}={v}" for k, v in values.items()] or None
    if op == "reorient":
        values = dict(zip(("theta", "phi", "gamma"), args, strict=False)) | {
            k.removesuffix("_degrees"): v for k, v in named.items() if k.endswith("_degrees")
        }
        return [f"{k}=({v}) * DEGREES" for k, v in values.items()] or None
    if op in ("set_theta", "set_phi", "set_gamma") and len(args) == 1:
        return [f"{op.removeprefix('set_')}={args[0]}"]
    if op in ("increment_theta", "increment_phi", "increment_gamma") and len(args) == 1:
        angle = op.removeprefix("increment_")
        return [f"{angle}=self.camera.get_{angle}() + ({args[0]})"]
    if op == "scale" and len(args) == 1 and not named:  # a smaller frame: a closer camera
        return [f"zoom=self.camera.get_zoom() / ({args[0]})"]
    if op == "move_to" and len(args) == 1 and not named:
        return [f"frame_center={args[0]}"]
    return None


def _camera_statement(node: ast.Expr, src: Source) -> Iterator[Edit]:
    """Statements on manimgl's frame in a ThreeDScene → the ThreeDScene camera methods."""
    call = node.value
    if not isinstance(call, ast.Call) or _kind_at(node, src) != "3d":
        return
    edit = _camera_call(call, src, _frame_aliases(node, src))
    if edit is not None:
        yield src.replace(node, edit, "camera_frame")


def _camera_call(call: ast.Call, src: Source, aliases: set[str]) -> str | None:
    """The ThreeDScene statement for one manimgl frame statement, or None if not one."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if _is_frame(func.value, aliases) and func.attr in _ORIENTATION_OPS:
        values = _orientation(call, src)
        return f"self.set_camera_orientation({', '.join(values)})" if values else None
    if _is_frame(func.value, aliases) and func.attr == "add_updater" and len(call.args) == 1:
        return _ambient_rotation(call.args[0], src)
    if _is_frame(func.value, aliases) and func.attr == "clear_updaters":
        return "self.stop_ambient_camera_rotation()"
    if func.attr == "play" and isinstance(func.value, ast.Name) and func.value.id == "self":
        return _camera_play(call, src, aliases)
    return None


def _ambient_rotation(updater: ast.AST, src: Source) -> str | None:
    """`frame.add_updater(lambda m, dt: m.increment_theta(0.1 * dt))` → ambient rotation."""
    if not (isinstance(updater, ast.Lambda) and len(updater.args.args) == 2):
        return None
    mob, dt = (a.arg for a in updater.args.args)
    body = updater.body
    op = method_name(body)
    if not (
        isinstance(body, ast.Call)
        and op in ("increment_theta", "increment_phi")
        and isinstance(body.func, ast.Attribute)
        and isinstance(body.func.value, ast.Name)
        and body.func.value.id == mob
        and len(body.args) == 1
    ):
        return None
    rate = body.args[0]
    if not (isinstance(rate, ast.BinOp) and isinstance(rate.op, ast.Mult)):
        return None
    sides = [rate.left, rate.right]
    others = [s for s in sides if not (isinstance(s, ast.Name) and s.id == dt)]
    if len(others) != 1:
        return None
    about = "" if op == "increment_theta" else ', about="phi"'
    return f"self.begin_ambient_camera_rotation(rate={src.text(others[0])}{about})"


def _camera_play(call: ast.Call, src: Source, aliases: set[str]) -> str | None:
    """`self.play(frame.animate.set_euler_angles(...), run_time=2)` → `self.move_camera(...)`."""
    moves = [a for a in call.args if _frame_animation(a, aliases)]
    if len(moves) != 1:
        return None
    move = moves[0]
    assert isinstance(move, ast.Call)
    values = _orientation(move, src)
    if values is None:
        return None
    others = [src.text(a) for a in call.args if a is not move]
    added = [f"added_anims=[{', '.join(others)}]"] if others else []
    keywords = [src.text(k) for k in call.keywords]
    return f"self.move_camera({', '.join([*values, *added, *keywords])})"


def _frame_animation(node: ast.AST, aliases: set[str]) -> bool:
    """`<frame>.animate.<orientation op>(...)`, the frame possibly `self.camera` itself."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _ORIENTATION_OPS
    ):
        return False
    animate = node.func.value
    return (
        isinstance(animate, ast.Attribute)
        and animate.attr == "animate"
        and (_is_frame(animate.value, aliases) or is_self_path(animate.value, "camera"))
    )


def _frame_alias_assignment(node: ast.Assign, src: Source) -> Iterator[Edit]:
    """`frame = self.camera.frame` goes once every use of `frame` is rewritten."""
    if not (
        len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and _is_frame_source(node.value)
        and _kind_at(node, src) == "3d"
    ):
        return
    func = src.enclosing(node, ast.FunctionDef)
    if func is None:
        return
    name = node.targets[0].id
    aliases = {name}
    for use in ast.walk(func):
        if isinstance(use, ast.Name) and use.id == name and isinstance(use.ctx, ast.Load):
            statement = src.enclosing(use, ast.stmt)
            if not (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Call)
                and _camera_call(statement.value, src, aliases) is not None
            ):
                return
    yield src.delete_statement(node, "camera_frame")


def _moving_camera(node: ast.Attribute, src: Source) -> Iterator[Edit]:
    """In a 2D scene: manimgl's `self.frame` and `self.camera.animate` → `self.camera.frame`."""
    if _kind_at(node, src) != "moving":
        return
    if is_self_path(node, "frame"):
        yield src.replace(node, "self.camera.frame", "moving_camera")
    elif is_self_path(node, "camera", "animate"):
        yield src.replace(node, "self.camera.frame.animate", "moving_camera")


def _fix_in_frame(node: ast.stmt, src: Source) -> Iterator[Edit]:
    """manimgl's `mob.fix_in_frame()` → `self.add_fixed_in_frame_mobjects(mob)`."""
    if _kind_at(node, src) != "3d":
        return
    value = getattr(node, "value", None)
    if isinstance(node, ast.Expr) and isinstance(value, ast.Call):
        op = method_name(value)
        if op in ("fix_in_frame", "unfix_from_frame") and not value.args:
            assert isinstance(value.func, ast.Attribute)
            verb = "add" if op == "fix_in_frame" else "remove"
            target = src.text(value.func.value)
            yield src.replace(
                node, f"self.{verb}_fixed_in_frame_mobjects({target})", "fix_in_frame"
            )
        elif (
            is_self_path(value.func, "add")
            and len(value.args) == 1
            and method_name(value.args[0]) == "fix_in_frame"
        ):
            inner = value.args[0]
            assert isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
            yield src.replace(
                node,
                f"self.add_fixed_in_frame_mobjects({src.text(inner.func.value)})",
                "fix_in_frame",
            )
    elif (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and method_name(value) == "fix_in_frame"
    ):
        assert isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
        name = node.targets[0].id
        yield src.replace(
            node,
            f"{name} = {src.text(value.func.value)}\n{src.indent(node)}"
            f"self.add_fixed_in_frame_mobjects({name})",
            "fix_in_frame",
        )


def _embed(node: ast.Expr, src: Source) -> Iterator[Edit]:
    """manimgl's interactive `self.embed()` has no place in a headless render."""
    if isinstance(node.value, ast.Call) and is_self_path(node.value.func, "embed"):
        yield src.delete_statement(node, "embed")


RULES: tuple[Rule, ...] = (
    Rule(
        "rename",
        "removed names with a same-signature successor (ShowCreation → Create, …)",
        (),
        (ast.Name,),
        _renames,
    ),  # each entry checks its own target
    Rule(
        "text_mobject",
        "TextMobject → Text (plain text) or Tex (LaTeX)",
        ("Text", "Tex"),
        (ast.Name,),
        _text_mobject,
    ),
    Rule(
        "fade_from",
        "FadeInFrom(m, LEFT) → FadeIn(m, shift=RIGHT); FadeOutAndShift → FadeOut",
        ("FadeIn(shift)", "FadeOut(shift)"),
        (ast.Call,),
        _directed_fades,
    ),
    Rule(
        "fade_from_large",
        "FadeInFromLarge(m, s) → FadeIn(m, scale=s)",
        ("FadeIn(scale)",),
        (ast.Call,),
        _fade_from_large,
    ),
    Rule(
        "fade_direction",
        "FadeIn(m, UP) → FadeIn(m, shift=UP)",
        ("FadeIn(shift)",),
        (ast.Call,),
        _fade_positional_direction,
    ),
    Rule(
        "removed_animation",
        "ShowCreationThenDestruction → ShowPassingFlash, FlashAround → Circumscribe, …",
        ("ShowPassingFlash", "Succession", "Circumscribe(fade_out)", "Create", "FadeOut"),
        (ast.Call,),
        _removed_animations,
    ),
    Rule(
        "apply_method",
        "ApplyMethod(m.shift, x) → m.animate.shift(x)",
        ("Mobject.animate",),
        (ast.Call,),
        _apply_method,
    ),
    Rule(
        "play_method",
        "self.play(m.shift, x) → self.play(m.animate.shift(x))",
        ("Mobject.animate",),
        (ast.Call,),
        _play_method,
    ),
    Rule(
        "positional_run_time",
        "Write(m, 2) → Write(m, run_time=2)",
        ("Write",),
        (ast.Call,),
        _positional_run_time,
    ),
    Rule(
        "old_ranges",
        "x_min=a, x_max=b → x_range=[a, b] (Axes, NumberLine, functions, …)",
        (
            "Axes(x_range)",
            "NumberLine(x_range)",
            "ParametricFunction(t_range)",
            "Surface(u_range)",
            "FunctionGraph(x_range)",
            "Axes.plot",
        ),
        (ast.Call,),
        _old_ranges,
    ),
    Rule(
        "keyword_fix",
        "keywords renamed or removed (Text size=, Circle r=, distance=, …)",
        ("Text(font_size)", "MathTex(font_size)", "BarChart(y_range)"),
        (ast.Call,),
        _keyword_fixes,
    ),
    Rule("get_graph", "axes.get_graph(f) → axes.plot(f)", ("Axes.plot",), (ast.Call,), _get_graph),
    Rule("tex_math", 'Tex("x^2") → MathTex("x^2")', ("MathTex",), (ast.Call,), _tex_math),
    Rule(
        "config_dict",
        "CONFIG = {...} → class attributes",
        ("Scene.setup",),
        (ast.Assign,),
        _config_dict,
    ),
    Rule(
        "scene_base",
        "a Scene using manimgl's camera frame → ThreeDScene / MovingCameraScene",
        ("ThreeDScene", "MovingCameraScene"),
        (ast.ClassDef,),
        _scene_base,
    ),
    Rule(
        "camera_frame",
        "manimgl's self.camera.frame in a ThreeDScene → set_camera_orientation, "
        "move_camera, ambient rotation",
        (
            "ThreeDScene.set_camera_orientation",
            "ThreeDScene.move_camera",
            "ThreeDScene.begin_ambient_camera_rotation",
            "ThreeDScene.stop_ambient_camera_rotation",
            "ThreeDCamera.get_theta",
            "ThreeDCamera.get_phi",
            "ThreeDCamera.get_zoom",
            "ThreeDScene.move_camera(frame_center)",
            "ThreeDScene.set_camera_orientation(zoom)",
        ),
        (ast.Expr, ast.Assign),
        lambda n, s: (
            _camera_statement(n, s) if isinstance(n, ast.Expr) else _frame_alias_assignment(n, s)
        ),
    ),
    Rule(
        "moving_camera",
        "self.frame / self.camera.animate → self.camera.frame (2D)",
        ("MovingCameraScene",),
        (ast.Attribute,),
        _moving_camera,
    ),
    Rule(
        "fix_in_frame",
        "mob.fix_in_frame() → self.add_fixed_in_frame_mobjects(mob)",
        ("ThreeDScene.add_fixed_in_frame_mobjects", "ThreeDScene.remove_fixed_in_frame_mobjects"),
        (ast.Expr, ast.Assign),
        _fix_in_frame,
    ),
    Rule("embed", "self.embed() (manimgl's interactive shell) removed", (), (ast.Expr,), _embed),
)
