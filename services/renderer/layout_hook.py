"""The layout hook: runs inside the render (in its cell) and records where things are.

At the end of every ``play`` and ``wait`` (and once when the scene ends) it notes, for
every visible mobject on screen, its bounding box, its class, the variable it is held in
and the scene-file lines that created it; the scene's frame and the line of the call
too. The records go to ``layout.json`` in the render's folder, which comes back to the
service like any other output. Nothing is judged here: the service reads the records as
untrusted data (the scene can write anything into its folder) and decides what is wrong
(:mod:`services.renderer.layout`).

Installed by the warm pool's child (``forkserver``) and, for the CLI path, by running
``python -m services.renderer.layout_hook OUT -- <manim render args>``, which installs
it and then runs Manim's own CLI: one hook for both paths. Cost: a walk up the stack per
mobject created and a box per visible object per animation; with ``LAYOUT_CHECK=off``
it is never installed.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

LAYOUT_FILE = "layout.json"
RECORDS_VERSION = 1
# Bounds the hook keeps and the service enforces again (it trusts no file).
MAX_CHECKPOINTS = 300
MAX_ITEMS = 80
MAX_LINES = 4
MAX_NAME = 60
MAX_DEPTH = 6
MAX_FONT = 1e5
# What a recorded name or class name may be (the service accepts nothing else): ASCII
# identifiers with attribute dots and indices; any other name is recorded as unknown.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\[\]]*$"
_NAME = re.compile(NAME_PATTERN)
_STACK_HOPS = 60
# Classes whose boxes are text (checked for overlap and size); the walk stops at them.
TEXT_CLASSES = (
    "Text",
    "MarkupText",
    "Paragraph",
    "SingleStringMathTex",  # MathTex, Tex, Title, BulletedList
    "DecimalNumber",  # Integer
)


class _Recorder:
    """The records of one render, and the scene file whose lines they name."""

    def __init__(self, scene_file: str) -> None:
        # The path as Manim imports it, and resolved (manim's own scene/scene.py is no match).
        self.scene_files = {scene_file, str(Path(scene_file).resolve())}
        self.known: dict[int, str] = {}  # names seen at earlier checkpoints (the end has none)
        self.checkpoints: list[dict[str, Any]] = []
        self.truncated = False
        self.depth = 0  # wait() calls play(): only the outermost call is a checkpoint
        self.spent = 0.0  # seconds the hook itself took (reported, for the benchmark)
        self.text_types: tuple[type, ...] = ()
        self.mobject_types: tuple[type, ...] = ()

    def lines(self, frame: Any) -> list[int]:
        """Scene-file lines on the stack from ``frame`` outwards (innermost first)."""
        found: list[int] = []
        hops = 0
        while frame is not None and hops < _STACK_HOPS and len(found) < MAX_LINES:
            if frame.f_code.co_filename in self.scene_files:
                found.append(frame.f_lineno)
            frame = frame.f_back
            hops += 1
        return found

    def names(self, frame: Any) -> dict[int, str]:
        """id → the variable (or ``self.`` attribute) holding each mobject in scene code.

        Local variables win over attributes, inner frames over outer ones.
        """
        named: dict[int, str] = {}
        scenes: list[Any] = []
        hops = 0
        while frame is not None and hops < _STACK_HOPS:
            if frame.f_code.co_filename in self.scene_files:
                for name, value in frame.f_locals.items():
                    if name == "self":
                        scenes.append(value)
                    else:
                        self._name(named, name, value)
            frame = frame.f_back
            hops += 1
        for scene in scenes:
            for attribute, held in vars(scene).items():
                public = not attribute.startswith("_") and _NAME.match(attribute)
                if public and isinstance(held, self.mobject_types):
                    named.setdefault(id(held), f"self.{attribute}"[:MAX_NAME])
        return named

    def _name(self, named: dict[int, str], name: str, value: Any) -> None:
        if not _NAME.match(name):
            return
        if isinstance(value, self.mobject_types):
            named.setdefault(id(value), name[:MAX_NAME])
        elif isinstance(value, list | tuple) and len(value) <= 50:
            for index, item in enumerate(value):
                if isinstance(item, self.mobject_types):
                    named.setdefault(id(item), f"{name}[{index}]"[:MAX_NAME])

    def checkpoint(self, scene: Any, call: str, frame: Any) -> None:
        started = time.perf_counter()
        try:
            self._checkpoint(scene, call, frame)
        finally:
            self.spent += time.perf_counter() - started

    def _checkpoint(self, scene: Any, call: str, frame: Any) -> None:
        if len(self.checkpoints) >= MAX_CHECKPOINTS:
            self.truncated = True
            return
        named = self.names(frame)
        self.known.update(named)
        named = {**self.known, **named}
        items: list[dict[str, Any]] = []
        on_screen = list(scene.mobjects) + list(getattr(scene, "foreground_mobjects", []))
        flat = _flat_view(scene)
        if flat is not None:  # a turned 3D camera: only what is fixed in the frame is flat
            on_screen = [mob for mob in on_screen if id(mob) in flat]
        for mob in on_screen:
            self._walk(mob, named.get(id(mob)), named, items, 0)
        renderer = getattr(scene, "renderer", None)
        self.checkpoints.append(
            {
                "i": len(self.checkpoints),
                "call": call,
                "t": round(float(getattr(renderer, "time", 0.0) or 0.0), 3),
                "lines": self.lines(frame),
                "frame": _frame_box(scene),
                "items": items,
            }
        )

    def _walk(
        self,
        mob: Any,
        name: str | None,
        named: dict[int, str],
        items: list[dict[str, Any]],
        depth: int,
    ) -> None:
        if len(items) >= MAX_ITEMS:
            self.truncated = True
            return
        is_text = isinstance(mob, self.text_types)
        if (depth == 0 or is_text) and _visible(mob):
            box = _box(mob)
            if box is not None:
                items.append(_item(mob, name, box, is_text))
        if is_text or depth >= MAX_DEPTH:
            return
        for index, child in enumerate(getattr(mob, "submobjects", ())):
            child_name = named.get(id(child)) or (f"{name}[{index}]" if name else None)
            self._walk(child, child_name, named, items, depth + 1)

    def write(self, path: Path) -> None:
        records = {
            "version": RECORDS_VERSION,
            "truncated": self.truncated,
            "hook_seconds": round(self.spent, 4),
            "checkpoints": self.checkpoints,
        }
        path.write_text(json.dumps(records, allow_nan=False), encoding="utf-8")


def _item(mob: Any, name: str | None, box: list[float], is_text: bool) -> dict[str, Any]:
    font = None
    if is_text:
        with contextlib.suppress(Exception):
            value = float(mob.font_size)
            font = round(min(value, MAX_FONT), 2) if math.isfinite(value) and value >= 0 else None
    created = vars(mob).get("_layout_lines", [])
    return {
        "name": name,
        "type": kind if _NAME.match(kind := type(mob).__name__[:MAX_NAME]) else "Mobject",
        "lines": created,
        "box": box,
        "text": is_text,
        "font": font,
    }


def _box(mob: Any) -> list[float] | None:
    points = mob.get_all_points()
    if len(points) == 0:
        return None
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    box = [float(low[0]), float(low[1]), float(high[0]), float(high[1])]
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in box):
        return None
    return [round(v, 4) for v in box]


def _visible(mob: Any) -> bool:
    """Whether any part of ``mob`` can be seen (an invisible helper is not content)."""
    for part in mob.family_members_with_points():
        fill = getattr(part, "get_fill_opacity", None)
        if fill is None:
            return True  # images, point clouds: visible when they have points
        with contextlib.suppress(Exception):
            if fill() > 0.01 or (part.get_stroke_width() > 0 and part.get_stroke_opacity() > 0.01):
                return True
    return False


def _flat_view(scene: Any) -> set[int] | None:
    """None when the camera looks straight at the x-y plane (boxes are what is seen); else
    the ids of the mobjects fixed in its frame, the only ones whose boxes still are."""
    camera: Any = getattr(scene, "camera", None)
    try:
        turned = (
            abs(camera.get_phi()) > 1e-3
            or abs(camera.get_theta() + math.pi / 2) > 1e-3
            or abs(camera.get_gamma()) > 1e-3
        )
    except Exception:  # no 3D camera
        return None
    if not turned:
        return None
    return {id(mob) for mob in getattr(camera, "fixed_in_frame_mobjects", ())}


def _frame_box(scene: Any) -> list[float]:
    """What the camera sees, in scene units (a moving camera's frame, else the config's)."""
    from manim import config

    frame: Any = getattr(getattr(scene, "camera", None), "frame", None)
    try:
        x, y = float(frame.get_center()[0]), float(frame.get_center()[1])
        width, height = float(frame.width), float(frame.height)
    except Exception:  # no moving camera: the configured frame, centred on the origin
        x, y, width, height = 0.0, 0.0, float(config.frame_width), float(config.frame_height)
    return [round(v, 4) for v in (x - width / 2, y - height / 2, x + width / 2, y + height / 2)]


def install(scene_file: str, output: str | Path) -> None:
    """Hook Manim so this process's scene records its layout into ``output``."""
    import manim
    from manim import Mobject, Scene

    recorder = _Recorder(str(scene_file))
    types = [getattr(manim, name) for name in TEXT_CLASSES if hasattr(manim, name)]
    recorder.text_types = tuple(types)
    mobject_types: list[type] = [Mobject]
    with contextlib.suppress(ImportError):
        from manim.mobject.opengl.opengl_mobject import OpenGLMobject

        mobject_types.append(OpenGLMobject)
    recorder.mobject_types = tuple(mobject_types)
    for base in mobject_types:
        init = vars(base)["__init__"]
        setattr(base, "__init__", _recording_init(init, recorder))  # noqa: B010
    Scene.play = _checkpointed(Scene.play, recorder, "play")  # type: ignore[method-assign]
    Scene.wait = _checkpointed(Scene.wait, recorder, "wait")  # type: ignore[method-assign]
    Scene.render = _writing(Scene.render, recorder, Path(output))  # type: ignore[method-assign]


def _recording_init(init: Callable[..., None], recorder: _Recorder) -> Callable[..., None]:
    def recorded(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        started = time.perf_counter()
        with contextlib.suppress(Exception):
            vars(self).setdefault("_layout_lines", recorder.lines(sys._getframe(1)))
        recorder.spent += time.perf_counter() - started

    return recorded


def _checkpointed(method: Callable[..., Any], recorder: _Recorder, call: str) -> Callable[..., Any]:
    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _nested(recorder) as outermost:
            result = method(self, *args, **kwargs)
        if outermost:
            try:
                recorder.checkpoint(self, call, sys._getframe(1))
            except Exception:  # a check must never fail the render it watches
                recorder.truncated = True
        return result

    return hooked


@contextlib.contextmanager
def _nested(recorder: _Recorder) -> Iterator[bool]:
    recorder.depth += 1
    try:
        yield recorder.depth == 1
    finally:
        recorder.depth -= 1


def _writing(render: Callable[..., Any], recorder: _Recorder, output: Path) -> Callable[..., Any]:
    def rendered(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = render(self, *args, **kwargs)
            with contextlib.suppress(Exception):
                recorder.checkpoint(self, "end", None)
            return result
        finally:
            with contextlib.suppress(Exception):  # the render's outcome is not ours to change
                recorder.write(output)

    return rendered


def main(argv: list[str]) -> None:  # pragma: no cover - runs as the CLI render's process
    """``layout_hook OUT SCENE_FILE -- manim render args``: hook, then Manim's own CLI."""
    output, scene_file, separator, *manim_args = argv
    if separator != "--":
        raise SystemExit("usage: layout_hook OUT SCENE_FILE -- MANIM_ARGS")
    install(scene_file, output)
    from manim.__main__ import main as manim_main

    sys.argv = ["manim", *manim_args]
    manim_main()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
