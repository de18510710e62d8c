"""Documents describing the installed Manim: every public class, function and method.

Built with `inspect` from the package that renders, so the docs can never describe
another version. Hand-written usage examples (examples.py) are added on top.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from importlib.metadata import version

import msgspec

from services.coder.retrieval.examples import EXAMPLES

DOC_CHARS = 700  # enough for a summary and the first parameters; prompts stay small


class Document(msgspec.Struct, frozen=True):
    """One searchable piece of API text."""

    name: str  # Circle, Axes.plot, example: arrow between points
    kind: str  # class | function | method | constants | example
    text: str  # what the coder's prompt shows
    keywords: str = ""  # extra words that only feed the search
    covers: list[str] = []  # API names the document answers for (an example's names)


def manim_version() -> str:
    return version("manim")


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj: object) -> str:
    text = inspect.getdoc(obj) or ""
    # Drop reST noise (directives, examples' manim markup) that only costs tokens.
    text = re.sub(r"^\s*\.\. [^\n]*\n(?:[ \t]+[^\n]*\n)*", "", text, flags=re.MULTILINE)
    return text[:DOC_CHARS].strip()


def _public_methods(cls: type) -> Iterator[tuple[str, object]]:
    """Methods and properties `cls` itself defines (inherited ones are its bases' docs)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property) and member.fget is not None:
            yield name, member.fget
            continue
        function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
        if inspect.isfunction(function):
            yield name, function


def _users(classes: list[type]) -> dict[str, str]:
    """For each class, the public classes that inherit from it: `axes.plot` must find
    `CoordinateSystem.plot`, so a method is also found by its subclasses' names."""
    users: dict[str, list[str]] = {}
    for cls in classes:
        for base in cls.__mro__[1:]:
            users.setdefault(base.__name__, []).append(cls.__name__)
    return {name: " ".join(sorted(found)[:12]) for name, found in users.items()}


def api_documents() -> list[Document]:
    """A document per public class, function and method of `manim`, plus constant groups."""
    import manim

    docs: list[Document] = []
    constants: dict[str, list[str]] = {}
    names = sorted(n for n in dir(manim) if not n.startswith("_"))
    users = _users([getattr(manim, n) for n in names if inspect.isclass(getattr(manim, n))])
    for name in names:
        obj = getattr(manim, name)
        if inspect.isclass(obj):
            bases = ", ".join(b.__name__ for b in obj.__bases__)
            docs.append(
                Document(
                    name=name,
                    kind="class",
                    text=f"class {name}({bases}){_signature(obj)}\n{_doc(obj)}",
                )
            )
            for method, function in _public_methods(obj):
                docs.append(
                    Document(
                        name=f"{name}.{method}",
                        kind="method",
                        text=f"{name}.{method}{_signature(function)}\n{_doc(function)}",
                        keywords=f"{name} {users.get(name, '')}",
                    )
                )
        elif inspect.isfunction(obj):
            docs.append(
                Document(
                    name=name, kind="function", text=f"def {name}{_signature(obj)}\n{_doc(obj)}"
                )
            )
        elif not inspect.ismodule(obj) and name.isupper():
            group = type(obj).__name__
            constants.setdefault(group, []).append(name)
    for group, names in constants.items():
        label = "colors" if group == "ManimColor" else f"{group} constants"
        docs.append(
            Document(
                name=f"constants: {label}",
                kind="constants",
                text=f"Manim {label}: " + ", ".join(names),
            )
        )
    return docs


def example_documents() -> list[Document]:
    return [
        Document(
            name=f"example: {title}",
            kind="example",
            text=code,
            keywords=" ".join(names),
            covers=names,
        )
        for title, names, code in EXAMPLES
    ]


def build_corpus() -> list[Document]:
    """Every document of the index for the installed Manim."""
    return [*api_documents(), *example_documents()]
