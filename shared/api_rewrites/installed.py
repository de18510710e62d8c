"""What the installed Manim has: a rewrite is only used when everything it writes exists.

Requirements are strings: `Name` (exported by `from manim import *`), `Name.attr` (an
attribute of that class), `Name(kw)` (a keyword the class's constructor, or a
constructor up its MRO, accepts) and `Name.method(kw)` (a keyword of that method).
Manim is imported on first use, never at import time, so the gateway pays for it only
when a client asks for `fix_api`.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

_KEYWORD = re.compile(r"^(\w+)(?:\.(\w+))?\((\w+)\)$")


@functools.cache
def _manim() -> dict[str, Any]:
    import manim

    return {name: getattr(manim, name) for name in dir(manim) if not name.startswith("_")}


def has(requirement: str) -> bool:
    """Whether the installed Manim satisfies one requirement string."""
    names = _manim()
    if match := _KEYWORD.match(requirement):
        owner, method, kw = match.groups()
        if owner not in names:
            return False
        target = getattr(names[owner], method, None) if method else names[owner]
        return target is not None and accepts(target, kw)
    owner, _, attr = requirement.partition(".")
    if owner not in names:
        return False
    return not attr or hasattr(names[owner], attr)


def accepts(cls: Any, keyword: str) -> bool:
    """Whether `cls(..., keyword=...)` is a named parameter somewhere up the constructor chain.

    `**kwargs` alone does not count: Manim forwards unknown keywords to `Mobject.__init__`,
    which rejects them.
    """
    for klass in getattr(cls, "__mro__", (cls,)):
        init = klass.__dict__.get("__init__") if isinstance(klass, type) else klass
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters
        except (TypeError, ValueError):
            continue
        if keyword in parameters:
            return True
    return False


@functools.cache
def mobject_methods() -> frozenset[str]:
    """Public method names of Manim's `VMobject` (for manimgl's `self.play(mob.method, …)`)."""
    vmobject = _manim()["VMobject"]
    return frozenset(
        name
        for name in dir(vmobject)
        if not name.startswith("_") and callable(getattr(vmobject, name, None))
    )
